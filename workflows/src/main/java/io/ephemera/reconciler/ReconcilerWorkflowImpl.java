package io.ephemera.reconciler;

import io.ephemera.activity.build.BuildActivities;
import io.ephemera.activity.compute.ComputeActivities;
import io.ephemera.activity.compute.TerminateRequest;
import io.ephemera.activity.credentials.CredentialActivities;
import io.ephemera.activity.credentials.RevokeRequest;
import io.ephemera.activity.gitlab.DeleteRunnerRequest;
import io.ephemera.activity.gitlab.GitLabRunnerActivities;
import io.ephemera.activity.kubernetes.KubernetesActivities;
import io.ephemera.activity.reconciler.KindReport;
import io.ephemera.activity.reconciler.ListRequest;
import io.ephemera.activity.reconciler.Listing;
import io.ephemera.activity.reconciler.Orphan;
import io.ephemera.activity.reconciler.PassReport;
import io.ephemera.activity.reconciler.ReconcilerActivities;
import io.ephemera.activity.reconciler.ReconcilerSettings;
import io.ephemera.activity.reconciler.RepairAction;
import io.ephemera.activity.reconciler.RepairKind;
import io.ephemera.activity.reconciler.RepairPlan;
import io.ephemera.activity.reconciler.RepairRequest;
import io.ephemera.activity.reconciler.ResourceKinds;
import io.ephemera.common.FailureType;
import io.ephemera.common.Persistently;
import io.ephemera.common.Timers;
import io.ephemera.runner.RunnerType;
import io.temporal.activity.ActivityOptions;
import io.temporal.activity.LocalActivityOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInit;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;

/**
 * The reconciler loop: pass, sleep the interval plus deterministic jitter, and continue as new
 * every {@code passesPerRun} passes (or sooner when Temporal suggests it).
 *
 * <p>A pass first <em>collects</em>: every listing and the repair plan run concurrently and answer
 * candidates and the errors of their sources. Only then does it <em>act</em>, and only on kinds
 * whose own source and Temporal answered without error in this pass; a source that failed blocks
 * every deletion depending on it until a healthy pass. A resource whose owner is running never
 * becomes a candidate (the listing asks Temporal), and a failed owner lookup is an error of the
 * {@code temporal} source, never an answer. Deletions go through the same idempotent activities
 * teardown uses, each with a summary in the Temporal UI, at most {@link #CONCURRENCY} at a time and
 * each given up after {@code reapTimeout} (teardown activities retry without limit, and one stuck
 * deletion must not stall the loop; it is simply found again next pass).
 */
public class ReconcilerWorkflowImpl implements ReconcilerWorkflow {
  private static final Logger log = Workflow.getLogger(ReconcilerWorkflowImpl.class);

  /** Deletions and repairs in flight at once. */
  static final int CONCURRENCY = 8;

  private final ReconcilerActivities config =
      Workflow.newLocalActivityStub(
          ReconcilerActivities.class,
          LocalActivityOptions.newBuilder()
              .setSummary("Read reconciler settings")
              .setStartToCloseTimeout(Duration.ofSeconds(10))
              .build());

  private final Random random;
  private long passes;
  private PassReport lastPass;
  private boolean passing;
  private Instant nextPassAt;
  private boolean passNow;

  @WorkflowInit
  public ReconcilerWorkflowImpl(ReconcilerRequest request) {
    this.random = Workflow.newRandom();
    if (request != null) {
      this.passes = request.passes();
      this.lastPass = request.lastPass();
    }
  }

  @Override
  public void run(ReconcilerRequest ignored) {
    int passesThisRun = 0;
    while (true) {
      ReconcilerSettings settings = config.settings();
      if (!settings.enabled()) {
        log.info("The reconciler is disabled (ephemera.reconciler.enabled=false); ending");
        return;
      }
      passing = true;
      nextPassAt = null;
      passNow = false;
      lastPass = pass(settings);
      passes++;
      passesThisRun++;
      passing = false;
      Workflow.setCurrentDetails(details(lastPass));

      Duration sleep = settings.interval().plus(jitter(settings.jitter()));
      nextPassAt = now().plus(sleep);
      Timers.await(sleep, "Next pass in " + Timers.human(sleep), () -> passNow);
      if (passesThisRun >= settings.passesPerRun()
          || Workflow.getInfo().isContinueAsNewSuggested()) {
        Workflow.continueAsNew(new ReconcilerRequest(passes, lastPass));
      }
    }
  }

  private PassReport pass(ReconcilerSettings s) {
    long number = passes + 1;
    Instant started = now();
    // Collect: every listing and the repair plan, concurrently.
    Map<String, Promise<Listing>> pending = new LinkedHashMap<>();
    for (String kind : s.kinds()) {
      ReconcilerActivities lister = reconciler("List " + kind + "s");
      pending.put(
          kind,
          Async.function(
              lister::list, new ListRequest(kind, s.grace(), s.pageSize(), s.maxReapsPerPass())));
    }
    ReconcilerActivities planner = reconciler("Compare GitLab's merge requests and jobs");
    Promise<RepairPlan> planned =
        Async.function(planner::planRepairs, new RepairRequest(s.pageSize(), s.maxReapsPerPass()));

    Map<String, String> errors = new TreeMap<>();
    Map<String, Listing> listings = new LinkedHashMap<>();
    for (Map.Entry<String, Promise<Listing>> e : pending.entrySet()) {
      String source = ResourceKinds.source(e.getKey());
      try {
        Listing listing = e.getValue().get();
        listing.errors().forEach(errors::putIfAbsent);
        if (!listing.complete() && listing.errors().isEmpty()) {
          errors.putIfAbsent(source, "the " + e.getKey() + " listing did not complete");
        }
        listings.put(e.getKey(), listing);
      } catch (ActivityFailure f) {
        errors.putIfAbsent(source, "listing " + e.getKey() + "s failed: " + describe(f));
      }
    }
    RepairPlan plan = null;
    try {
      plan = planned.get();
      plan.errors().forEach(errors::putIfAbsent);
    } catch (ActivityFailure f) {
      errors.putIfAbsent(ResourceKinds.SOURCE_GITLAB, "planning repairs failed: " + describe(f));
    }
    // Decisions are taken on what the collection saw; failures while acting are reported only.
    Map<String, String> collectionErrors = Map.copyOf(errors);

    // Act: repairs first (a missing workflow is worse than a leftover), then reaps.
    Map<String, Long> repairs = new TreeMap<>();
    if (plan != null) {
      boolean stopsAllowed =
          !collectionErrors.containsKey(ResourceKinds.SOURCE_GITLAB)
              && !collectionErrors.containsKey(ResourceKinds.SOURCE_TEMPORAL);
      List<Op> ops = new ArrayList<>();
      for (RepairAction action : plan.actions()) {
        if (action.kind() == RepairKind.REVIEW_APP_STOP && !stopsAllowed) {
          continue; // a stop is a deletion: never on a pass whose GitLab or Temporal failed
        }
        if (s.dryRun()) {
          repairs.merge(action.kind().label(), 1L, Long::sum);
          continue;
        }
        ReconcilerActivities repairer = reconciler(repairSummary(action));
        ops.add(new Op(action.kind().label(), () -> repairer.repair(action)));
      }
      for (Outcome o : runBounded(ops, s.reapTimeout(), "repairs")) {
        if (o.failure() == null) {
          repairs.merge(o.op().label(), 1L, Long::sum);
        } else {
          errors.putIfAbsent(ResourceKinds.SOURCE_TEMPORAL, o.op().label() + ": " + o.failure());
        }
      }
    }

    Map<String, long[]> reapCounts = new LinkedHashMap<>();
    List<Op> reaps = new ArrayList<>();
    Map<String, String> blocked = new LinkedHashMap<>();
    for (String kind : s.kinds()) {
      reapCounts.put(kind, new long[2]);
      String blocker = blocker(kind, collectionErrors, listings.get(kind));
      if (blocker != null) {
        blocked.put(kind, blocker);
        continue;
      }
      if (s.dryRun()) {
        continue;
      }
      Set<String> seen = new LinkedHashSet<>();
      for (Orphan orphan : listings.get(kind).candidates()) {
        // Terminate and delete-runner act on everything of the owner: once per owner is enough.
        String key = ownerScoped(kind) ? orphan.owner() : orphan.resource();
        if (seen.add(key)) {
          reaps.add(reapOp(orphan));
        }
      }
    }
    for (Outcome o : runBounded(reaps, s.reapTimeout(), "deletions")) {
      long[] counts = reapCounts.get(o.op().label());
      if (o.failure() == null) {
        counts[0]++;
      } else {
        counts[1]++;
        String source = ResourceKinds.source(o.op().label());
        errors.putIfAbsent(source, "reaping a " + o.op().label() + " failed: " + o.failure());
      }
    }

    Map<String, KindReport> kinds = new TreeMap<>();
    for (String kind : s.kinds()) {
      Listing l = listings.get(kind);
      long[] counts = reapCounts.get(kind);
      kinds.put(
          kind,
          new KindReport(
              l == null ? 0 : l.live(),
              l == null ? null : l.oldestAgeSeconds(),
              l == null ? 0 : l.orphans(),
              counts[0],
              counts[1],
              blocked.get(kind)));
    }
    Instant finished = now();
    PassReport report =
        new PassReport(
            number,
            started,
            finished,
            Duration.between(started, finished).toMillis(),
            s.dryRun(),
            kinds,
            repairs,
            errors,
            s.notConfigured());
    try {
      reconciler("Count pass " + number + " in the metrics").recordPass(report);
    } catch (ActivityFailure f) {
      log.warn("Pass {} could not be counted in the metrics: {}", number, describe(f));
    }
    log.info(
        "Reconciler pass {}: kinds {}, repairs {}, errors {}{}",
        number,
        kinds,
        repairs,
        errors.keySet(),
        s.dryRun() ? " (dry run)" : "");
    return report;
  }

  /**
   * The failed source that keeps {@code kind} from being reaped this pass, or null: its own source,
   * else Temporal (every owner check asks it), else its listing's absence.
   */
  static String blocker(String kind, Map<String, String> errors, Listing listing) {
    String source = ResourceKinds.source(kind);
    if (errors.containsKey(source)) {
      return source;
    }
    if (errors.containsKey(ResourceKinds.SOURCE_TEMPORAL)) {
      return ResourceKinds.SOURCE_TEMPORAL;
    }
    if (listing == null || !listing.complete()) {
      return source;
    }
    return null;
  }

  private static boolean ownerScoped(String kind) {
    return kind.equals(ResourceKinds.RUNNER_POD)
        || kind.equals(ResourceKinds.INSTANCE)
        || kind.equals(ResourceKinds.GITLAB_RUNNER);
  }

  /** The deletion teardown would have made, through the same activity. */
  private Op reapOp(Orphan o) {
    String why = " (owner " + o.owner() + ": " + o.ownerState() + ")";
    return switch (o.kind()) {
      case ResourceKinds.NAMESPACE -> {
        KubernetesActivities k8s =
            stub(KubernetesActivities.class, "Reap namespace " + o.resource() + why);
        yield new Op(o.kind(), () -> k8s.deleteNamespace(o.resource()));
      }
      case ResourceKinds.RUNNER_POD -> {
        ComputeActivities compute =
            stub(ComputeActivities.class, "Reap runner pod " + o.resource() + why);
        yield new Op(
            o.kind(),
            () -> compute.terminate(new TerminateRequest(o.owner(), RunnerType.KUBERNETES)));
      }
      case ResourceKinds.INSTANCE -> {
        ComputeActivities compute =
            stub(ComputeActivities.class, "Reap instance " + o.resource() + why);
        yield new Op(
            o.kind(), () -> compute.terminate(new TerminateRequest(o.owner(), RunnerType.EC2)));
      }
      case ResourceKinds.GITLAB_RUNNER -> {
        GitLabRunnerActivities gitlab =
            stub(GitLabRunnerActivities.class, "Reap GitLab runner " + o.resource() + why);
        yield new Op(
            o.kind(), () -> gitlab.deleteRunner(new DeleteRunnerRequest(o.projectId(), o.owner())));
      }
      case ResourceKinds.LEASE -> {
        CredentialActivities credentials =
            stub(CredentialActivities.class, "Revoke lease " + o.resource() + why);
        yield new Op(
            o.kind(), () -> credentials.revoke(new RevokeRequest(o.owner(), List.of(o.lease()))));
      }
      case ResourceKinds.BUILD -> {
        if (o.build() == null) {
          // A listing that found a build but could not say what to delete: counted as failed.
          yield new Op(
              o.kind(),
              () -> {
                throw FailureType.InvalidName.failure(
                    "the listing named no build to delete for " + o.resource());
              });
        }
        BuildActivities builds = stub(BuildActivities.class, "Reap build " + o.resource() + why);
        yield new Op(o.kind(), () -> builds.deleteBuild(o.build()));
      }
      default -> throw new IllegalStateException("unknown resource kind " + o.kind());
    };
  }

  private record Op(String label, Runnable call) {}

  private record Outcome(Op op, String failure) {}

  /**
   * Runs {@code ops}, {@link #CONCURRENCY} at a time; one not finished within {@code timeout} is
   * cancelled and reported as failed.
   */
  private List<Outcome> runBounded(List<Op> ops, Duration timeout, String what) {
    List<Outcome> outcomes = new ArrayList<>(ops.size());
    for (int from = 0; from < ops.size(); from += CONCURRENCY) {
      List<Op> batch = ops.subList(from, Math.min(ops.size(), from + CONCURRENCY));
      List<Promise<Void>> promises = new ArrayList<>(batch.size());
      List<CancellationScope> scopes = new ArrayList<>(batch.size());
      for (Op op : batch) {
        CancellationScope scope =
            Workflow.newCancellationScope(() -> promises.add(Async.procedure(op.call()::run)));
        scope.run();
        scopes.add(scope);
      }
      Timers.await(
          timeout,
          "Give up on " + batch.size() + " " + what + " after " + Timers.human(timeout),
          () -> promises.stream().allMatch(Promise::isCompleted));
      for (int i = 0; i < batch.size(); i++) {
        if (!promises.get(i).isCompleted()) {
          scopes.get(i).cancel("not done within " + timeout);
        }
      }
      for (int i = 0; i < batch.size(); i++) {
        try {
          promises.get(i).get();
          outcomes.add(new Outcome(batch.get(i), null));
        } catch (TemporalFailure f) {
          String failure =
              scopes.get(i).isCancelRequested()
                  ? "not done within " + Timers.human(timeout)
                  : describe(f);
          log.warn("{} failed: {}", batch.get(i).label(), failure);
          outcomes.add(new Outcome(batch.get(i), failure));
        }
      }
    }
    return outcomes;
  }

  private static String repairSummary(RepairAction a) {
    return switch (a.kind()) {
      case REVIEW_APP_DEPLOY ->
          "Repair: review app of "
              + a.projectPath()
              + "!"
              + a.number()
              + " at "
              + shortSha(a.sha())
              + " ("
              + a.reason()
              + ")";
      case REVIEW_APP_STOP ->
          "Repair: stop the review app of "
              + a.projectPath()
              + "!"
              + a.number()
              + " ("
              + a.reason()
              + ")";
      case RUNNER_START ->
          "Repair: runner for " + a.projectPath() + " job #" + a.number() + " (" + a.reason() + ")";
    };
  }

  private static ReconcilerActivities reconciler(String summary) {
    return stub(ReconcilerActivities.class, summary);
  }

  /**
   * A stub whose calls read as {@code summary} in the Temporal UI. Timeouts and retries come from
   * the worker's per-type options.
   */
  private static <T> T stub(Class<T> type, String summary) {
    return Workflow.newActivityStub(type, ActivityOptions.newBuilder().setSummary(summary).build());
  }

  private Duration jitter(Duration max) {
    long millis = max == null ? 0 : max.toMillis();
    return millis <= 0 ? Duration.ZERO : Duration.ofMillis((long) (random.nextDouble() * millis));
  }

  private static String details(PassReport r) {
    long reaped = r.kinds().values().stream().mapToLong(KindReport::reaped).sum();
    long found = r.kinds().values().stream().mapToLong(KindReport::found).sum();
    long repaired = r.repairs().values().stream().mapToLong(Long::longValue).sum();
    StringBuilder b =
        new StringBuilder("**Pass ")
            .append(r.pass())
            .append("**")
            .append(r.dryRun() ? " (dry run)" : "")
            .append(": ")
            .append(found)
            .append(" orphans found, ")
            .append(reaped)
            .append(" reaped, ")
            .append(repaired)
            .append(" repairs");
    if (!r.errors().isEmpty()) {
      b.append("\n\nErrors: ").append(r.errors().keySet());
    }
    return b.toString();
  }

  @Override
  public ReconcilerStatus status() {
    return new ReconcilerStatus(lastPass, passing, nextPassAt, passes);
  }

  @Override
  public void passNow() {
    passNow = true;
  }

  private static String describe(Throwable e) {
    return Persistently.describe(e);
  }

  private static String shortSha(String sha) {
    return sha == null || sha.length() <= 8 ? sha : sha.substring(0, 8);
  }

  private static Instant now() {
    return Instant.ofEpochMilli(Workflow.currentTimeMillis());
  }
}
