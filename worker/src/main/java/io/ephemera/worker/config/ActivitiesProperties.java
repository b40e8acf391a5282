package io.ephemera.worker.config;

import io.ephemera.common.ActivityDefaults;
import io.ephemera.common.FailureType;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code ephemera.activities.*}: timeouts and retries of every activity. {@code defaults} apply to
 * all; {@code overrides.<ActivityType>} (e.g. {@code KubernetesAwaitRollout}) replace single fields
 * for one activity type.
 */
@ConfigurationProperties("ephemera.activities")
public record ActivitiesProperties(@DefaultValue Options defaults, Map<String, Options> overrides) {

  /**
   * Teardown steps retry without limit: giving up would leak the environment. Waits get a heartbeat
   * timeout so a dead worker is noticed in 30 s instead of at the end of the wait.
   */
  static final Map<String, Options> BUILT_IN =
      Map.ofEntries(
          Map.entry("KubernetesDeleteIngress", Options.unlimited()),
          Map.entry("KubernetesDeleteWorkloads", Options.unlimited()),
          Map.entry("KubernetesDeleteNamespace", Options.unlimited()),
          Map.entry(
              "KubernetesAwaitNamespaceGone",
              new Options(Duration.ofMinutes(3), Duration.ofSeconds(30), null, null, null, 0)),
          Map.entry(
              "KubernetesAwaitRollout",
              new Options(Duration.ofMinutes(10), Duration.ofSeconds(30), null, null, null, null)),
          Map.entry("ComputeTerminate", Options.unlimited()),
          // Above the EC2 wait budget (5 minutes), heartbeating every poll.
          Map.entry(
              "ComputeAwaitTerminated",
              new Options(Duration.ofMinutes(10), Duration.ofSeconds(30), null, null, null, 0)),
          Map.entry("GitLabDeleteRunner", Options.unlimited()),
          // A lease left unrevoked is a live credential: retry until Vault answers (typed
          // refusals such as VaultForbidden still stop it).
          Map.entry("CredentialsRevoke", Options.unlimited()),
          // Above the build wait budget (5 minutes), heartbeating every poll. Unlimited attempts:
          // each BuildPending re-attaches to the same Job, whose active deadline ends the build.
          Map.entry(
              "BuildBuild",
              new Options(Duration.ofMinutes(10), Duration.ofSeconds(30), null, null, null, 0)),
          Map.entry("BuildDeleteBuild", Options.unlimited()),
          // Polls: a failed poll is simply tried at the next one, and a slow one would delay the
          // runner's reaction to signals.
          Map.entry(
              "GitLabJobState", new Options(Duration.ofSeconds(30), null, null, null, null, 2)),
          Map.entry(
              "GitLabRunnerJobs", new Options(Duration.ofSeconds(30), null, null, null, null, 2)),
          // Reconciler listings page through whole sources, heartbeating each page; one attempt,
          // because the next pass is their retry and a failure must show in this pass's report.
          Map.entry(
              "ReconcilerList",
              new Options(Duration.ofMinutes(15), Duration.ofMinutes(1), null, null, null, 1)),
          Map.entry(
              "ReconcilerPlanRepairs",
              new Options(Duration.ofMinutes(15), Duration.ofMinutes(1), null, null, null, 1)));

  public ActivitiesProperties {
    overrides = overrides == null ? Map.of() : Map.copyOf(overrides);
  }

  /**
   * One activity's settings; null fields inherit.
   *
   * @param maxAttempts 0 means unlimited
   */
  public record Options(
      Duration startToClose,
      Duration heartbeat,
      Duration initialInterval,
      Double backoff,
      Duration maxInterval,
      Integer maxAttempts) {

    static Options unlimited() {
      return new Options(null, null, null, null, null, 0);
    }

    Options orElse(Options base) {
      return new Options(
          startToClose != null ? startToClose : base.startToClose,
          heartbeat != null ? heartbeat : base.heartbeat,
          initialInterval != null ? initialInterval : base.initialInterval,
          backoff != null ? backoff : base.backoff,
          maxInterval != null ? maxInterval : base.maxInterval,
          maxAttempts != null ? maxAttempts : base.maxAttempts);
    }
  }

  /** The defaults, with unset fields filled by values that suit cluster calls. */
  Options effectiveDefaults() {
    Options fallback =
        new Options(
            Duration.ofMinutes(2),
            null,
            Duration.ofSeconds(1),
            2.0,
            Duration.ofMinutes(1),
            // Five attempts over about half a minute: long enough for a blip, short enough that a
            // broken deploy shows as FAILED while the author is still looking.
            5);
    return defaults == null ? fallback : defaults.orElse(fallback);
  }

  ActivityOptions defaultActivityOptions() {
    return toActivityOptions(effectiveDefaults());
  }

  /**
   * Options of every activity type of {@code interfaces}: built-in ones, then configured overrides,
   * each over the defaults (see {@link ActivityDefaults#perType} for why every type).
   */
  Map<String, ActivityOptions> perTypeActivityOptions(Class<?>... interfaces) {
    Options base = effectiveDefaults();
    Map<String, Options> merged = new HashMap<>(BUILT_IN);
    overrides.forEach(
        (type, o) -> merged.merge(type, o, (builtIn, configured) -> configured.orElse(builtIn)));
    Map<String, ActivityOptions> specific = new HashMap<>();
    merged.forEach((type, o) -> specific.put(type, toActivityOptions(o.orElse(base))));
    return ActivityDefaults.perType(toActivityOptions(base), specific, interfaces);
  }

  static ActivityOptions toActivityOptions(Options o) {
    RetryOptions retry =
        RetryOptions.newBuilder()
            .setInitialInterval(o.initialInterval())
            .setBackoffCoefficient(o.backoff())
            .setMaximumInterval(o.maxInterval())
            .setMaximumAttempts(o.maxAttempts())
            .setDoNotRetry(FailureType.nonRetryableTypes())
            .build();
    ActivityOptions.Builder b =
        ActivityDefaults.newBuilder()
            .setStartToCloseTimeout(o.startToClose())
            .setRetryOptions(retry);
    if (o.heartbeat() != null) {
      b.setHeartbeatTimeout(o.heartbeat());
    }
    return b.build();
  }
}
