package io.ephemera.activity.build;

import io.fabric8.kubernetes.api.model.Quantity;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code ephemera.build.*}: how review-app images are built. Every component has a default, so an
 * empty configuration is a working one; {@code null} (and {@code 0} for the numbers) stand for
 * "unset" so the record can be built by hand as easily as by Spring. Invalid values fail at
 * start-up rather than at the first build.
 *
 * @param executorImage the Kaniko executor image the build Job runs
 * @param context where the build context comes from
 * @param cache Kaniko's layer cache
 * @param extraArgs further Kaniko flags, appended as given (e.g. {@code --snapshot-mode=redo})
 * @param resources requests and limits of the build container
 * @param activeDeadlineSeconds the longest a build Job may run; Kubernetes then fails it, which is
 *     also the backstop should the workflow be lost
 * @param ttlSecondsAfterFinished how long Kubernetes keeps a finished Job before deleting it: the
 *     backstop for a worker that died before cleaning up
 * @param waitBudget how long one build attempt waits before failing with the retryable {@code
 *     BuildPending}; the next attempt re-attaches to the same Job. Keep it below the activity's
 *     start-to-close timeout
 * @param pollInterval pause between two reads of the Job
 * @param logTailLines how many lines of the build log a failure carries
 * @param registry how the registry is spoken to for the "tag already exists" check
 * @param enabled whether deploys build images at all ({@code false}: the image template names an
 *     image built elsewhere, and the deploy skips the credentials and build steps)
 * @param namespace the namespace build Jobs and their credential Secrets are created in, kept apart
 *     from review namespaces so a build's push credential is never readable by the app it builds
 */
@ConfigurationProperties("ephemera.build")
public record BuildProperties(
    String executorImage,
    Context context,
    Cache cache,
    List<String> extraArgs,
    Resources resources,
    long activeDeadlineSeconds,
    int ttlSecondsAfterFinished,
    Duration waitBudget,
    Duration pollInterval,
    int logTailLines,
    Registry registry,
    Boolean enabled,
    String namespace) {

  static final String PREFIX = "ephemera.build.";

  /**
   * The osscontainertools fork of Kaniko, pinned. Upstream GoogleContainerTools/kaniko was archived
   * in June 2025 and publishes nothing any more. Of its forks, osscontainertools/kaniko is the one
   * that publishes images publicly (ghcr.io and Docker Hub {@code martizih/kaniko}), signed with
   * cosign, on a fixed schedule (a patch release every two weeks, behaviour changes only behind
   * feature flags in minor releases); Chainguard's fork releases source only, its images being for
   * Chainguard customers. Pinned, never {@code latest}: the flags below are our contract with it.
   */
  /** Where build Jobs run unless configured: the namespace the Helm chart creates for them. */
  public static final String DEFAULT_NAMESPACE = "ephemera-builds";

  public static final String DEFAULT_EXECUTOR_IMAGE = "ghcr.io/osscontainertools/kaniko:v1.28.3";

  public BuildProperties {
    executorImage = orDefault(executorImage, DEFAULT_EXECUTOR_IMAGE);
    if (executorImage.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException(PREFIX + "executor-image must not contain whitespace");
    }
    context = context == null ? Context.DEFAULT : context;
    cache = cache == null ? Cache.DEFAULT : cache;
    extraArgs = extraArgs == null ? List.of() : List.copyOf(extraArgs);
    for (String arg : extraArgs) {
      if (arg == null || !arg.startsWith("--")) {
        throw new IllegalArgumentException(
            PREFIX + "extra-args must be Kaniko flags starting with --, was '" + arg + "'");
      }
    }
    resources = resources == null ? Resources.DEFAULT : resources;
    // Thirty minutes: a cold build of a large image with an empty cache fits; a hung one ends.
    activeDeadlineSeconds = activeDeadlineSeconds == 0 ? 1800 : activeDeadlineSeconds;
    if (activeDeadlineSeconds < 1) {
      throw new IllegalArgumentException(PREFIX + "active-deadline-seconds must be positive");
    }
    // One hour: long after the worker cleaned up, short enough that a lost Job is not kept long.
    ttlSecondsAfterFinished = ttlSecondsAfterFinished == 0 ? 3600 : ttlSecondsAfterFinished;
    if (ttlSecondsAfterFinished < 1) {
      throw new IllegalArgumentException(PREFIX + "ttl-seconds-after-finished must be positive");
    }
    // Five minutes, as for rollouts: a worker restart or a lost heartbeat costs little, since the
    // next attempt simply re-attaches to the Job.
    waitBudget = positive("wait-budget", waitBudget, Duration.ofMinutes(5));
    // Two seconds: a build takes minutes, and each poll is one GET plus one heartbeat.
    pollInterval = positive("poll-interval", pollInterval, Duration.ofSeconds(2));
    logTailLines = logTailLines == 0 ? 50 : logTailLines;
    if (logTailLines < 1 || logTailLines > 1000) {
      throw new IllegalArgumentException(
          PREFIX + "log-tail-lines must be 1..1000, was " + logTailLines);
    }
    registry = registry == null ? Registry.DEFAULT : registry;
    enabled = enabled == null || enabled;
    namespace = orDefault(namespace, DEFAULT_NAMESPACE);
    if (!io.ephemera.common.Names.isDns1123Label(namespace)) {
      throw new IllegalArgumentException(
          PREFIX + "namespace must be a DNS-1123 label, was '" + namespace + "'");
    }
  }

  /** Every default, as an empty configuration gives them. */
  public static BuildProperties defaults() {
    return new BuildProperties(null, null, null, null, null, 0, 0, null, null, 0, null, null, null);
  }

  /** These properties with GitLab's URL as the git context when none is configured. */
  public BuildProperties withDefaultGitUrl(URI gitlab) {
    if (context.gitUrl() != null || gitlab == null) {
      return this;
    }
    return withContext(new Context(gitlab, context.ref(), context.dockerfile(), context.subPath()));
  }

  /** These properties speaking {@code scheme} to the registry (the sandbox registry is http). */
  public BuildProperties withRegistryScheme(String scheme) {
    return new BuildProperties(
        executorImage,
        context,
        cache,
        extraArgs,
        resources,
        activeDeadlineSeconds,
        ttlSecondsAfterFinished,
        waitBudget,
        pollInterval,
        logTailLines,
        new Registry(scheme, registry.timeout()),
        enabled,
        namespace);
  }

  BuildProperties withContext(Context c) {
    return new BuildProperties(
        executorImage,
        c,
        cache,
        extraArgs,
        resources,
        activeDeadlineSeconds,
        ttlSecondsAfterFinished,
        waitBudget,
        pollInterval,
        logTailLines,
        registry,
        enabled,
        namespace);
  }

  /**
   * The build context: Kaniko's git context, {@code git://<host>/<project path>.git#<ref>#<sha>},
   * cloned with {@code GIT_USERNAME}/{@code GIT_PASSWORD} from the credentials Secret.
   *
   * @param gitUrl GitLab as the build pod reaches it, e.g. {@code https://gitlab.example.com};
   *     unset means {@code ephemera.gitlab.url}. Kaniko clones over https, or over plain http when
   *     this URL is http (it is told through {@code GIT_PULL_METHOD})
   * @param ref the ref fetched before checking out the sha; {@code {iid}} is the merge request's
   *     number. GitLab keeps every merge request's head at {@code refs/merge-requests/<iid>/head}
   *     in the target project, fork merge requests included, so the sha is always reachable from it
   * @param dockerfile the Dockerfile's path within the context
   * @param subPath a subdirectory of the repository to use as the context; unset means its root
   */
  public record Context(URI gitUrl, String ref, String dockerfile, String subPath) {
    static final Context DEFAULT = new Context(null, null, null, null);

    public Context {
      if (gitUrl != null) {
        String scheme = gitUrl.getScheme() == null ? "" : gitUrl.getScheme();
        if (!scheme.equals("https") && !scheme.equals("http") || gitUrl.getHost() == null) {
          throw new IllegalArgumentException(
              PREFIX + "context.git-url must be an http(s) URL, was " + gitUrl);
        }
      }
      ref = orDefault(ref, "refs/merge-requests/{iid}/head");
      if (ref.contains("#") || ref.chars().anyMatch(Character::isWhitespace)) {
        throw new IllegalArgumentException(PREFIX + "context.ref must be a git ref, was " + ref);
      }
      dockerfile = orDefault(dockerfile, "Dockerfile");
      subPath = subPath == null || subPath.isBlank() ? null : subPath.trim();
    }
  }

  /**
   * Kaniko's layer cache, kept in a registry repository.
   *
   * @param enabled whether Kaniko caches layers ({@code --cache})
   * @param repo the repository cached layers go to; unset lets Kaniko use {@code <destination
   *     repository>/cache}
   * @param ttl how long a cached layer is reused
   */
  public record Cache(Boolean enabled, String repo, Duration ttl) {
    static final Cache DEFAULT = new Cache(null, null, null);

    public Cache {
      enabled = enabled == null || enabled;
      repo = repo == null || repo.isBlank() ? null : repo.trim();
      // A week: review apps live days, and an older layer is seldom what a new commit needs.
      ttl = positive("cache.ttl", ttl, Duration.ofDays(7));
    }
  }

  /**
   * Requests and limits of the Kaniko container. The defaults fit in the default ResourceQuota of a
   * review namespace next to the app itself.
   */
  public record Resources(
      String requestsCpu, String requestsMemory, String limitsCpu, String limitsMemory) {
    static final Resources DEFAULT = new Resources(null, null, null, null);

    public Resources {
      requestsCpu = quantity("resources.requests-cpu", requestsCpu, "500m");
      requestsMemory = quantity("resources.requests-memory", requestsMemory, "1Gi");
      limitsCpu = quantity("resources.limits-cpu", limitsCpu, "2");
      limitsMemory = quantity("resources.limits-memory", limitsMemory, "4Gi");
    }
  }

  /**
   * The registry images are pushed to, as the worker speaks to it.
   *
   * @param scheme {@code https}, or {@code http} for a plain-HTTP registry (Kaniko then gets {@code
   *     --insecure})
   * @param timeout how long one request of the tag check may take
   */
  public record Registry(String scheme, Duration timeout) {
    static final Registry DEFAULT = new Registry(null, null);

    public Registry {
      scheme = orDefault(scheme, "https").toLowerCase(Locale.ROOT);
      if (!scheme.equals("https") && !scheme.equals("http")) {
        throw new IllegalArgumentException(
            PREFIX + "registry.scheme must be https or http, was " + scheme);
      }
      timeout = positive("registry.timeout", timeout, Duration.ofSeconds(10));
    }

    boolean insecure() {
      return scheme.equals("http");
    }
  }

  private static String orDefault(String value, String fallback) {
    return value == null || value.isBlank() ? fallback : value.trim();
  }

  private static Duration positive(String name, Duration value, Duration fallback) {
    Duration d = value == null ? fallback : value;
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(PREFIX + name + " must be positive");
    }
    return d;
  }

  private static String quantity(String name, String value, String fallback) {
    String q = orDefault(value, fallback);
    try {
      if (Quantity.getAmountInBytes(new Quantity(q)).signum() <= 0) {
        throw new IllegalArgumentException(PREFIX + name + " must be positive, was " + q);
      }
    } catch (ArithmeticException | IllegalArgumentException e) {
      if (e.getMessage() != null && e.getMessage().startsWith(PREFIX)) {
        throw e;
      }
      throw new IllegalArgumentException(PREFIX + name + " is not a Kubernetes quantity: " + q, e);
    }
    return q;
  }
}
