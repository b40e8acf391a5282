package io.ephemera.reviewapp;

import com.uber.m3.tally.Scope;
import io.ephemera.activity.build.BuildActivities;
import io.ephemera.activity.build.BuildRequest;
import io.ephemera.activity.build.BuildResult;
import io.ephemera.activity.config.ConfigActivities;
import io.ephemera.activity.config.ReviewSettings;
import io.ephemera.activity.credentials.CredentialActivities;
import io.ephemera.activity.credentials.CredentialPurpose;
import io.ephemera.activity.credentials.CredentialRequest;
import io.ephemera.activity.credentials.IssuedCredentials;
import io.ephemera.activity.credentials.Lease;
import io.ephemera.activity.credentials.RevokeRequest;
import io.ephemera.activity.gitlab.CommitStatusRequest;
import io.ephemera.activity.gitlab.DeploymentRequest;
import io.ephemera.activity.gitlab.EnvironmentRequest;
import io.ephemera.activity.gitlab.GitLabFeedbackActivities;
import io.ephemera.activity.gitlab.NoteRequest;
import io.ephemera.activity.kubernetes.KubernetesActivities;
import io.ephemera.activity.kubernetes.NamespaceSpec;
import io.ephemera.activity.kubernetes.NamespaceState;
import io.ephemera.activity.kubernetes.RolloutRequest;
import io.ephemera.activity.kubernetes.WorkloadSpec;
import io.ephemera.common.EphemeraSearchAttributes;
import io.ephemera.common.Labels;
import io.ephemera.common.Names;
import io.ephemera.common.Persistently;
import io.ephemera.common.Timers;
import io.ephemera.common.WorkflowIds;
import io.temporal.activity.ActivityOptions;
import io.temporal.activity.LocalActivityOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInit;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import org.slf4j.Logger;

/**
 * The life of one merge request's review app: deploy each new head commit, keep the newest one
 * live, stop after an idle period, and tear everything down in order when asked.
 *
 * <p>Activity options (timeouts, retries) are not set here: the worker registers this
 * implementation with options built from {@code ephemera.activities.*}.
 */
public class ReviewAppWorkflowImpl implements ReviewAppWorkflow {
  private static final Logger log = Workflow.getLogger(ReviewAppWorkflowImpl.class);

  /**
   * Idempotency keys remembered; GitLab redeliveries come within hours, not thousands of pushes.
   */
  static final int MAX_SEEN_KEYS = 500;

  /** Hard cap on {@code extend} until the settings are loaded (first moments of a run). */
  private static final Duration EXTEND_CAP_BEFORE_SETTINGS = Duration.ofDays(30);

  private static final Duration MAX_TEARDOWN_BACKOFF = Duration.ofMinutes(5);

  /** The Secret in each review namespace that holds the registry pull credential. */
  static final String PULL_SECRET = "registry-pull";

  /**
   * Change id: the workflow deletes a build after it succeeded too (see deleteBuildAfterSuccess).
   */
  static final String DELETE_BUILD_AFTER_SUCCESS = "delete-build-after-success";

  /** How soon GitLab feedback that failed is tried again. */
  static final Duration FEEDBACK_RETRY = Duration.ofMinutes(1);

  private final ConfigActivities config =
      Workflow.newLocalActivityStub(
          ConfigActivities.class,
          LocalActivityOptions.newBuilder()
              .setSummary("Read review-app settings")
              .setStartToCloseTimeout(Duration.ofSeconds(10))
              .build());

  private final ReviewAppRequest request;
  private final String workflowId;
  private final String namespace;
  private final LinkedHashSet<String> seenKeys = new LinkedHashSet<>();
  private final Random random;

  private ReviewSettings settings;
  private DeployRequest pendingDeploy;
  private String deployingSha;
  private String stopReason;
  private boolean cancelled;
  private DeployRequest deployAfterStop;
  private boolean autoStopChanged;

  private ReviewAppPhase phase = ReviewAppPhase.PENDING;
  private String sha;
  private String url;
  private int deployments;
  private Instant autoStopAt;
  private List<String> resources = List.of();
  private String lastError;

  /** Leases not revoked yet: those of a build in flight, and the live pull credential's. */
  private final List<Lease> leases = new ArrayList<>();

  private String step;
  private List<DeployStep> steps = new ArrayList<>();

  /** GitLab feedback: never fails a deploy; its last error shows in status until it succeeds. */
  private String feedbackError;

  private boolean feedbackPending;
  private Instant nextFeedbackAt;
  private Long deploymentId;
  private Long noteId;
  private String ref;

  @WorkflowInit
  public ReviewAppWorkflowImpl(ReviewAppRequest request) {
    this.request = request;
    this.workflowId = WorkflowIds.reviewApp(request.projectId(), request.mrIid());
    this.namespace =
        Names.reviewNamespace(request.projectId(), request.projectPath(), request.mrIid());
    this.random = Workflow.newRandom();
    ReviewAppRequest.Carried carried = request.carried();
    if (carried != null) {
      if (carried.seenKeys() != null) {
        seenKeys.addAll(carried.seenKeys());
      }
      pendingDeploy = carried.pendingDeploy();
      ReviewAppStatus s = carried.status();
      if (s != null) {
        phase = s.phase();
        sha = s.sha();
        url = s.url();
        deployments = s.deployments();
        autoStopAt = s.autoStopAt();
        resources = s.resources();
        lastError = s.lastError();
        steps = new ArrayList<>(s.steps());
        leases.addAll(s.leases());
      }
    }
  }

  @Override
  public ReviewAppResult run(ReviewAppRequest ignored) {
    Workflow.upsertTypedSearchAttributes(
        EphemeraSearchAttributes.KIND.valueSet(Labels.KIND_REVIEW_APP),
        EphemeraSearchAttributes.PROJECT_ID.valueSet(request.projectId()),
        EphemeraSearchAttributes.MR_IID.valueSet(request.mrIid()));
    enter(phase);
    settings = config.reviewSettings(request.projectId());
    if (autoStopAt == null) {
      // A review app that never deploys must still go away by itself.
      resetAutoStop();
    }
    try {
      while (stopReason == null) {
        if (pendingDeploy != null) {
          deployNewest();
          continue;
        }
        if (Workflow.getInfo().isContinueAsNewSuggested() && Workflow.isEveryHandlerFinished()) {
          Workflow.continueAsNew(carryOver());
        }
        Duration untilAutoStop = Duration.between(now(), autoStopAt);
        if (untilAutoStop.isNegative() || untilAutoStop.isZero()) {
          stopReason = "idle for " + human(settings.autoStop());
          break;
        }
        if (feedbackPending && !now().isBefore(nextFeedbackAt)) {
          publishReady();
          continue;
        }
        boolean feedbackFirst =
            feedbackPending && nextFeedbackAt.isBefore(now().plus(untilAutoStop));
        Duration wait = feedbackFirst ? Duration.between(now(), nextFeedbackAt) : untilAutoStop;
        autoStopChanged = false;
        // Waking on the suggestion too: a burst of ignored redeliveries grows history without
        // waking the loop otherwise.
        Timers.await(
            wait,
            feedbackFirst
                ? "Retry GitLab feedback in " + human(wait)
                : "Auto-stop in " + human(untilAutoStop),
            () ->
                stopReason != null
                    || pendingDeploy != null
                    || autoStopChanged
                    || Workflow.getInfo().isContinueAsNewSuggested());
      }
    } catch (CanceledFailure e) {
      // The workflow itself was cancelled (UI or CLI): that is a request to stop, not a leak.
      stopReason = "workflow cancelled";
      cancelled = true;
    }
    // Detached: teardown must run to the end even when the workflow is being cancelled.
    Workflow.newDetachedCancellationScope(this::teardown).run();
    if (deployAfterStop != null && !cancelled) {
      // The MR was reopened or pushed to while we tore down (signal-with-start reaches the
      // stopping run, by design of USE_EXISTING): start a fresh environment instead of losing it.
      log.info("{}: a deploy arrived during teardown; starting afresh", workflowId);
      Workflow.continueAsNew(
          new ReviewAppRequest(
              request.projectId(),
              request.projectPath(),
              request.mrIid(),
              request.title(),
              new ReviewAppRequest.Carried(null, List.copyOf(seenKeys), deployAfterStop)));
    }
    return new ReviewAppResult(status());
  }

  /**
   * Deploys the pending commit. A newer commit or a stop arriving meanwhile cancels it, so only the
   * newest SHA ever goes live and a stale rollout never holds up a teardown.
   */
  private void deployNewest() {
    DeployRequest target = pendingDeploy;
    pendingDeploy = null;
    deployingSha = target.sha();
    lastError = null;
    deploymentId = null;
    steps = new ArrayList<>();
    long deployStarted = Workflow.currentTimeMillis();
    if (target.ref() != null) {
      ref = target.ref();
    }
    enter(ReviewAppPhase.DEPLOYING);
    log.info("Deploying {} of {}", shortSha(target.sha()), workflowId);

    List<Promise<Void>> holder = new ArrayList<>(1);
    CancellationScope scope =
        Workflow.newCancellationScope(() -> holder.add(Async.procedure(this::deploySteps, target)));
    scope.run();
    Promise<Void> done = holder.get(0);
    Workflow.await(() -> done.isCompleted() || pendingDeploy != null || stopReason != null);
    if (!done.isCompleted()) {
      scope.cancel(stopReason != null ? "stopping" : "superseded by a newer commit");
    }
    try {
      done.get();
      sha = target.sha();
      url = settings.urlScheme() + "://" + host();
      deployments++;
      metrics()
          .timer("ephemera_deploy_duration")
          .record(com.uber.m3.util.Duration.ofMillis(Workflow.currentTimeMillis() - deployStarted));
      pushAutoStop();
      enter(ReviewAppPhase.READY);
      publishReady();
      log.info("{} is READY at {} with {}", workflowId, url, shortSha(sha));
    } catch (TemporalFailure e) {
      if (scope.isCancelRequested()) {
        log.info(
            "Deploy of {} cancelled: {}", shortSha(target.sha()), scope.getCancellationReason());
      } else {
        lastError = "deploy of " + shortSha(target.sha()) + " failed: " + describe(e);
        enter(ReviewAppPhase.FAILED);
        finishDeployment(target.sha(), "failed", "Review app deploy failed");
        log.warn("{}: {}", workflowId, lastError);
      }
    } finally {
      deployingSha = null;
    }
  }

  private void deploySteps(DeployRequest target) {
    feedback(
        "commit status",
        () ->
            gitlab("Commit status pending for " + shortSha(target.sha()))
                .setCommitStatus(
                    new CommitStatusRequest(
                        request.projectId(),
                        target.sha(),
                        ref,
                        "pending",
                        null,
                        "Deploying the review app")));
    if (ref != null) {
      feedback(
          "deployment",
          () ->
              deploymentId =
                  gitlab("Deployment of " + shortSha(target.sha()) + " running")
                      .recordDeployment(
                          new DeploymentRequest(
                              request.projectId(),
                              environmentName(),
                              target.sha(),
                              ref,
                              "running",
                              null)));
    }
    String image =
        settings.buildEnabled()
            ? buildImage(target)
            : settings.image(request.projectPath(), target.sha());
    List<String> objects =
        new ArrayList<>(
            step(
                "namespace",
                () ->
                    k8s("Ensure namespace " + namespace)
                        .ensureNamespace(
                            new NamespaceSpec(
                                namespace, workflowId, request.projectId(), request.mrIid()))));
    resources = List.copyOf(objects);
    issuePullCredentials(target);
    objects.addAll(
        step(
            "workload",
            () ->
                k8s("Apply " + shortSha(target.sha()) + " at " + host())
                    .applyWorkload(
                        new WorkloadSpec(
                            namespace, workflowId, target.sha(), image, host(), PULL_SECRET))));
    resources = List.copyOf(objects);
    step(
        "rollout",
        () ->
            k8s("Roll out " + shortSha(target.sha()))
                .awaitRollout(new RolloutRequest(namespace, target.sha())));
  }

  /**
   * Issues the build's credentials into the build's own Secret, builds, and revokes them right
   * after, whatever the outcome: a build credential must not outlive its build. The revocation runs
   * detached, so a newer push or a stop that cancels the build still revokes.
   */
  private String buildImage(DeployRequest target) {
    String name = buildName(target.sha());
    BuildRequest build =
        new BuildRequest(
            workflowId,
            request.projectId(),
            request.projectPath(),
            target.sha(),
            settings.buildNamespace(),
            name,
            settings.image(request.projectPath(), target.sha()),
            name);
    List<Lease> issued = new ArrayList<>();
    boolean finished = false;
    try {
      IssuedCredentials credentials =
          step(
              "credentials",
              () ->
                  credentials("Issue build credentials for " + shortSha(target.sha()))
                      .issue(
                          new CredentialRequest(
                              workflowId,
                              request.projectId(),
                              request.projectPath(),
                              CredentialPurpose.BUILD,
                              settings.buildNamespace(),
                              name)));
      issued.addAll(credentials.leases());
      leases.addAll(credentials.leases());
      BuildResult result =
          step(
              "build",
              () -> builds("Build " + shortSha(target.sha())).build(build),
              r -> r.skipped() ? "skipped: the registry has " + r.image() : "ok");
      finished = true;
      return result.image();
    } finally {
      boolean buildFinished = finished;
      Workflow.newDetachedCancellationScope(
              () -> {
                revokeQuietly(issued, "build credentials of " + shortSha(target.sha()));
                // After a failure or a cancel this covers a builder whose worker died mid-way.
                // After a success the builder leaves its finished Job (or a skipped build's
                // Secret) for a retry whose answer was lost; the outcome is recorded now.
                if (!buildFinished || deleteBuildAfterSuccess()) {
                  quietly(
                      "delete build " + name,
                      () -> builds("Delete build " + name).deleteBuild(build));
                }
              })
          .run();
    }
  }

  /**
   * Whether a successful build is deleted by the workflow: runs before this change left it to the
   * builder, which deleted it before answering, so that a retry after a lost answer found nothing
   * and failed the deploy.
   */
  private static boolean deleteBuildAfterSuccess() {
    return Workflow.getVersion(DELETE_BUILD_AFTER_SUCCESS, Workflow.DEFAULT_VERSION, 1) >= 1;
  }

  /**
   * Writes a fresh registry pull credential into the review namespace; the credentials it replaces
   * are revoked at once, since the Secret no longer holds them.
   */
  private void issuePullCredentials(DeployRequest target) {
    List<Lease> previous = List.copyOf(leases);
    IssuedCredentials pull =
        step(
            "pull-credentials",
            () ->
                credentials("Issue pull credentials for " + shortSha(target.sha()))
                    .issue(
                        new CredentialRequest(
                            workflowId,
                            request.projectId(),
                            request.projectPath(),
                            CredentialPurpose.DEPLOY,
                            namespace,
                            PULL_SECRET)));
    leases.addAll(pull.leases());
    if (!previous.isEmpty()) {
      Workflow.newDetachedCancellationScope(
              () -> revokeQuietly(previous, "replaced pull credentials"))
          .run();
    }
  }

  /**
   * Revokes {@code toRevoke}; a failure leaves them in {@link #leases}, so teardown (which insists)
   * revokes them later. Never fails the deploy.
   */
  private void revokeQuietly(List<Lease> toRevoke, String what) {
    List<Lease> revocable = toRevoke.stream().filter(Lease::revocable).toList();
    if (revocable.isEmpty()) {
      leases.removeAll(toRevoke);
      return;
    }
    if (quietly(
        "revoke " + what,
        () -> credentials("Revoke " + what).revoke(new RevokeRequest(workflowId, revocable)))) {
      leases.removeAll(toRevoke);
    }
  }

  /** Runs a best-effort step; a failure is logged and answered {@code false}. */
  private boolean quietly(String what, Runnable body) {
    try {
      body.run();
      return true;
    } catch (ActivityFailure e) {
      log.warn("{}: {} failed, left for teardown: {}", workflowId, what, describe(e));
      return false;
    }
  }

  private <T> T step(String name, Supplier<T> body) {
    return step(name, body, r -> "ok");
  }

  /** Runs one deploy step, recording it in {@code status().steps()} for people to follow. */
  private <T> T step(
      String name, Supplier<T> body, java.util.function.Function<T, String> outcome) {
    int index = steps.size();
    steps.add(DeployStep.started(name, now()));
    step = name;
    describeCurrent();
    try {
      T result = body.get();
      steps.set(index, steps.get(index).finished(now(), outcome.apply(result)));
      return result;
    } catch (TemporalFailure e) {
      String why =
          CancellationScope.current().isCancelRequested() || e instanceof CanceledFailure
              ? "cancelled"
              : "failed: " + describe(e);
      steps.set(index, steps.get(index).finished(now(), why));
      throw e;
    } finally {
      step = null;
    }
  }

  /** The build's name: its Job's and its Secret's, unique per merge request and commit. */
  private String buildName(String sha) {
    return Names.dns1123Label("build-" + namespace + "-" + shortSha(sha), Names.MAX_LABEL);
  }

  /** Ordered, idempotent, and retried until done: nothing may outlive the review app. */
  private void teardown() {
    String errorBeforeTeardown = lastError;
    long teardownStarted = Workflow.currentTimeMillis();
    enter(ReviewAppPhase.STOPPING);
    log.info("Tearing down {}: {}", workflowId, stopReason);
    if (!leases.isEmpty()) {
      List<Lease> revocable = leases.stream().filter(Lease::revocable).toList();
      if (!revocable.isEmpty()) {
        untilDone(
            "revoke leases",
            () ->
                credentials("Revoke " + revocable.size() + " lease(s)")
                    .revoke(new RevokeRequest(workflowId, revocable)));
      }
      leases.clear();
    }
    untilDone("delete ingress", () -> k8s("Delete ingress").deleteIngress(namespace));
    untilDone("delete workloads", () -> k8s("Delete workloads").deleteWorkloads(namespace));
    untilDone(
        "delete namespace", () -> k8s("Delete namespace " + namespace).deleteNamespace(namespace));
    boolean reportedStuck = false;
    while (true) {
      NamespaceState state =
          untilDone(
              "wait for namespace",
              () ->
                  k8s("Wait for namespace " + namespace + " to go").awaitNamespaceGone(namespace));
      if (state.gone()) {
        break;
      }
      Instant since = state.terminatingSince();
      if (since != null
          && Duration.between(since, now()).compareTo(settings.namespaceStuckAfter()) > 0) {
        lastError = "namespace " + namespace + " stuck in Terminating since " + since;
        if (!reportedStuck) {
          log.warn("{}: {}; teardown keeps trying", workflowId, lastError);
          reportedStuck = true;
        }
      }
      Timers.sleep(
          settings.teardownPollInterval(),
          "Check namespace " + namespace + " again in " + human(settings.teardownPollInterval()));
      // Deleting again is harmless and recovers a namespace whose deletion was never recorded.
      untilDone(
          "delete namespace",
          () -> k8s("Delete namespace " + namespace).deleteNamespace(namespace));
    }
    resources = List.of();
    url = null;
    feedback(
        "stop environment",
        () ->
            gitlab("Stop environment " + environmentName())
                .stopEnvironment(
                    new EnvironmentRequest(request.projectId(), environmentName(), null)));
    feedback(
        "note",
        () ->
            noteId =
                gitlab("Note: stopped")
                    .upsertNote(
                        new NoteRequest(
                            request.projectId(),
                            request.mrIid(),
                            "### Review app stopped: " + stopReason,
                            noteId)));
    // Teardown errors were overcome (it finished); a deploy error still explains the app's end.
    lastError = errorBeforeTeardown;
    metrics()
        .timer("ephemera_teardown_duration")
        .record(com.uber.m3.util.Duration.ofMillis(Workflow.currentTimeMillis() - teardownStarted));
    enter(ReviewAppPhase.STOPPED);
    log.info("{} stopped: {}", workflowId, stopReason);
  }

  /**
   * Runs a teardown step until it succeeds. Activity retry policies already retry transient
   * failures; this outer loop also outlasts non-retryable ones (a 403 until RBAC is fixed), because
   * giving up would leak the environment.
   */
  private <T> T untilDone(String what, java.util.function.Supplier<T> step) {
    return Persistently.untilDone(
        what,
        step,
        Duration.ofSeconds(10),
        MAX_TEARDOWN_BACKOFF,
        e -> {
          lastError = what + " failed, retrying: " + describe(e);
          log.warn("{}: {}", workflowId, lastError);
        });
  }

  private void untilDone(String what, Runnable step) {
    untilDone(
        what,
        () -> {
          step.run();
          return Boolean.TRUE;
        });
  }

  @Override
  public void deploy(DeployRequest deploy) {
    if (!seenKeys.add(deploy.idempotencyKey())) {
      log.info("Ignoring redelivery {} of {}", deploy.idempotencyKey(), shortSha(deploy.sha()));
      return;
    }
    if (seenKeys.size() > MAX_SEEN_KEYS) {
      Iterator<String> oldest = seenKeys.iterator();
      oldest.next();
      oldest.remove();
    }
    if (stopReason != null) {
      log.info(
          "{} is stopping; {} will be deployed afresh after teardown",
          workflowId,
          shortSha(deploy.sha()));
      deployAfterStop = deploy;
      return;
    }
    if (deploy.sha().equals(targetSha())) {
      log.info("{} already live or deploying; nothing to do", shortSha(deploy.sha()));
      return;
    }
    pendingDeploy = deploy;
  }

  /** The commit that is live or on its way; a failed commit may be retried by a new delivery. */
  private String targetSha() {
    if (pendingDeploy != null) {
      return pendingDeploy.sha();
    }
    if (deployingSha != null) {
      return deployingSha;
    }
    return phase == ReviewAppPhase.READY ? sha : null;
  }

  @Override
  public void stop(String reason) {
    if (stopReason == null) {
      stopReason = reason == null || reason.isBlank() ? "stop requested" : reason;
    }
  }

  @Override
  public void validateExtend(ExtendRequest extend) {
    if (stopReason != null) {
      throw new IllegalStateException("the review app is stopping: " + stopReason);
    }
    Duration d = parseDuration(extend);
    Duration max = settings == null ? EXTEND_CAP_BEFORE_SETTINGS : settings.maxExtend();
    if (d.compareTo(max) > 0) {
      throw new IllegalArgumentException("duration " + d + " is longer than the maximum " + max);
    }
  }

  @Override
  public ExtendResult extend(ExtendRequest extend) {
    Instant requested = now().plus(parseDuration(extend));
    // "Extend" never shortens: asking for 48 hours on an app with 3 days left keeps the 3 days.
    if (autoStopAt == null || requested.isAfter(autoStopAt)) {
      autoStopAt = requested;
      autoStopChanged = true;
    }
    log.info("{} extended; auto-stop at {}", workflowId, autoStopAt);
    return new ExtendResult(autoStopAt);
  }

  @Override
  public ReviewAppStatus status() {
    return new ReviewAppStatus(
        request.projectId(),
        request.projectPath(),
        request.mrIid(),
        phase,
        sha,
        url,
        namespace,
        deployments,
        autoStopAt,
        resources,
        lastError != null ? lastError : feedbackError,
        stopReason,
        step,
        steps,
        leases);
  }

  private ReviewAppRequest carryOver() {
    return new ReviewAppRequest(
        request.projectId(),
        request.projectPath(),
        request.mrIid(),
        request.title(),
        new ReviewAppRequest.Carried(status(), List.copyOf(seenKeys), pendingDeploy));
  }

  /**
   * Tells GitLab the app is live: environment with its URL, the deployment, the one note, the
   * commit status. A failure is recorded and the whole set is tried again a minute later; the
   * environment stays up whatever GitLab answers.
   */
  private void publishReady() {
    feedbackPending = false;
    feedbackError = null;
    String liveSha = sha;
    String liveUrl = url;
    boolean ok =
        feedback(
            "environment",
            () ->
                gitlab("Environment " + environmentName() + " at " + liveUrl)
                    .upsertEnvironment(
                        new EnvironmentRequest(request.projectId(), environmentName(), liveUrl)));
    if (ref != null) {
      ok &=
          feedback(
              "deployment",
              () ->
                  deploymentId =
                      gitlab("Deployment of " + shortSha(liveSha) + " succeeded")
                          .recordDeployment(
                              new DeploymentRequest(
                                  request.projectId(),
                                  environmentName(),
                                  liveSha,
                                  ref,
                                  "success",
                                  deploymentId)));
    }
    ok &=
        feedback(
            "note",
            () ->
                noteId =
                    gitlab("Note: ready at " + liveUrl)
                        .upsertNote(
                            new NoteRequest(
                                request.projectId(), request.mrIid(), readyNote(), noteId)));
    ok &=
        feedback(
            "commit status",
            () ->
                gitlab("Commit status success for " + shortSha(liveSha))
                    .setCommitStatus(
                        new CommitStatusRequest(
                            request.projectId(),
                            liveSha,
                            ref,
                            "success",
                            liveUrl,
                            "Review app ready")));
    if (!ok) {
      feedbackPending = true;
      nextFeedbackAt = now().plus(FEEDBACK_RETRY);
    }
  }

  /** Closes the running deployment and the commit status of a deploy that did not go live. */
  private void finishDeployment(String failedSha, String status, String description) {
    if (deploymentId != null && ref != null) {
      feedback(
          "deployment",
          () ->
              gitlab("Deployment of " + shortSha(failedSha) + " " + status)
                  .recordDeployment(
                      new DeploymentRequest(
                          request.projectId(),
                          environmentName(),
                          failedSha,
                          ref,
                          status,
                          deploymentId)));
      deploymentId = null;
    }
    feedback(
        "commit status",
        () ->
            gitlab("Commit status " + status + " for " + shortSha(failedSha))
                .setCommitStatus(
                    new CommitStatusRequest(
                        request.projectId(),
                        failedSha,
                        ref,
                        "failed".equals(status) ? "failed" : "canceled",
                        null,
                        description)));
  }

  /** One GitLab feedback step: failures are recorded, never thrown. */
  private boolean feedback(String what, Runnable step) {
    try {
      step.run();
      return true;
    } catch (ActivityFailure e) {
      if (CancellationScope.current().isCancelRequested()) {
        // A cancellation is never a GitLab failure: let the scope's owner see it.
        throw new CanceledFailure("cancelled during GitLab feedback (" + what + ")");
      }
      feedbackError = "GitLab feedback (" + what + ") failed: " + describe(e);
      log.warn("{}: {}", workflowId, feedbackError);
      return false;
    }
  }

  private String environmentName() {
    return "review/mr-" + request.mrIid();
  }

  private String readyNote() {
    return "### Review app ready\n\n"
        + "**URL:** "
        + url
        + "  \n**Commit:** `"
        + shortSha(sha)
        + "`  \n**Auto-stop:** "
        + autoStopAt
        + " (extend it with `POST /api/v1/review-apps/"
        + request.projectId()
        + "/"
        + request.mrIid()
        + "/extend`)";
  }

  private static CredentialActivities credentials(String summary) {
    return Workflow.newActivityStub(
        CredentialActivities.class, ActivityOptions.newBuilder().setSummary(summary).build());
  }

  private static BuildActivities builds(String summary) {
    return Workflow.newActivityStub(
        BuildActivities.class, ActivityOptions.newBuilder().setSummary(summary).build());
  }

  /** Review-app metrics; Temporal's scope emits nothing while a history is replayed. */
  private static Scope metrics() {
    return Workflow.getMetricsScope().tagged(Map.of("kind", Labels.KIND_REVIEW_APP));
  }

  private static GitLabFeedbackActivities gitlab(String summary) {
    return Workflow.newActivityStub(
        GitLabFeedbackActivities.class, ActivityOptions.newBuilder().setSummary(summary).build());
  }

  /**
   * A Kubernetes stub whose calls read as {@code summary} in the Temporal UI. Timeouts and retries
   * still come from the worker's per-type options (see {@code ActivityDefaults.perType}).
   */
  private static KubernetesActivities k8s(String summary) {
    return Workflow.newActivityStub(
        KubernetesActivities.class, ActivityOptions.newBuilder().setSummary(summary).build());
  }

  /** Moves to a phase, and tells the Temporal UI: search attributes and current details. */
  private void enter(ReviewAppPhase next) {
    phase = next;
    boolean live = next == ReviewAppPhase.READY && url != null;
    Workflow.upsertTypedSearchAttributes(
        EphemeraSearchAttributes.PHASE.valueSet(next.name()),
        live
            ? EphemeraSearchAttributes.ENVIRONMENT_URL.valueSet(url)
            : EphemeraSearchAttributes.ENVIRONMENT_URL.valueUnset());
    metrics().tagged(Map.of("phase", next.name())).counter("ephemera_phase_transitions").inc(1);
    describeCurrent();
  }

  /** The current details the Temporal UI shows above the history. */
  private void describeCurrent() {
    ReviewAppPhase next = phase;
    boolean live = next == ReviewAppPhase.READY && url != null;
    StringBuilder details =
        new StringBuilder("**")
            .append(next)
            .append("** ")
            .append(request.projectPath())
            .append("!")
            .append(request.mrIid());
    if (sha != null) {
      details.append(" at `").append(shortSha(sha)).append('`');
    }
    if (step != null) {
      details.append("\n\nStep: ").append(step);
    }
    if (live) {
      details.append("\n\n").append(url);
    }
    if (autoStopAt != null && next != ReviewAppPhase.STOPPED) {
      details.append("\n\nAuto-stop at ").append(autoStopAt);
    }
    if (lastError != null) {
      details.append("\n\nLast error: ").append(lastError);
    }
    if (stopReason != null) {
      details.append("\n\nStopping: ").append(stopReason);
    }
    Workflow.setCurrentDetails(details.toString());
  }

  /** A deploy restarts the idle clock but never cuts short an extension someone asked for. */
  private void pushAutoStop() {
    Instant previous = autoStopAt;
    resetAutoStop();
    if (previous != null && previous.isAfter(autoStopAt)) {
      autoStopAt = previous;
    }
  }

  private void resetAutoStop() {
    long jitterMillis = settings.autoStopJitter().toMillis();
    long jitter = jitterMillis <= 0 ? 0 : (long) (random.nextDouble() * jitterMillis);
    autoStopAt = now().plus(settings.autoStop()).plusMillis(jitter);
    autoStopChanged = true;
  }

  private String host() {
    return settings.host(request.projectId(), Names.slug(request.projectPath()), request.mrIid());
  }

  private static Duration parseDuration(ExtendRequest extend) {
    if (extend == null || extend.duration() == null || extend.duration().isBlank()) {
      throw new IllegalArgumentException("duration is required, e.g. \"PT48H\"");
    }
    Duration d;
    try {
      d = Duration.parse(extend.duration());
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "duration \"" + extend.duration() + "\" is not ISO-8601, e.g. \"PT48H\"");
    }
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("duration must be positive, was " + d);
    }
    return d;
  }

  /** The innermost failure message, which names what went wrong (the outer ones name the call). */
  static String describe(Throwable e) {
    return Persistently.describe(e);
  }

  private static Instant now() {
    return Instant.ofEpochMilli(Workflow.currentTimeMillis());
  }

  static String shortSha(String sha) {
    return sha == null || sha.length() <= 8 ? sha : sha.substring(0, 8);
  }

  static String human(Duration d) {
    return Timers.human(d);
  }
}
