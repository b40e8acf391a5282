package io.ephemera.activity.compute;

import io.ephemera.common.Names;
import io.fabric8.kubernetes.api.model.Quantity;
import java.net.URI;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code ephemera.runners.kubernetes.*}: where and how runner pods run. Every component has a
 * default, so an empty configuration is a working one; {@code null} (and {@code 0} for the user id)
 * stand for "unset" so the record can be built by hand as easily as by Spring. Invalid values fail
 * at start-up rather than at the first pending job.
 *
 * @param namespace where runner pods and their token Secrets live; created (labelled managed-by
 *     ephemera) when missing
 * @param image the runner image when a route names none. Pinned to a version, never {@code latest}:
 *     the flags of {@code run-single} are part of our contract with it, and a tag that moves would
 *     change runners under running workflows
 * @param executor the gitlab-runner executor inside the pod. {@code shell} runs the job in the
 *     runner's own container, the only executor that needs neither a Docker daemon nor RBAC
 * @param cpu CPU request and limit when a route names none
 * @param memory memory request and limit when a route names none
 * @param runAsUser the non-root user id the runner runs as; the official image's default user is
 *     root, which {@code runAsNonRoot} would refuse, so one is set explicitly
 * @param gitlabUrl GitLab as seen from the pods, when it differs from the URL Ephemera uses (an
 *     in-cluster Service, say); unset means the URL the worker passes in ({@code
 *     ephemera.gitlab.url})
 * @param waitBudget how long one awaitTerminated attempt waits for the pods to go
 * @param pollInterval pause between two pod listings while waiting
 */
@ConfigurationProperties("ephemera.runners.kubernetes")
public record RunnerPodProperties(
    String namespace,
    String image,
    String executor,
    String cpu,
    String memory,
    long runAsUser,
    URI gitlabUrl,
    Duration waitBudget,
    Duration pollInterval) {

  private static final String PREFIX = "ephemera.runners.kubernetes.";

  /**
   * gitlab-runner 17.11 (April 2025), Alpine flavour: small, and {@code run-single} there has every
   * flag used here ({@code --max-builds}, {@code --wait-timeout}).
   */
  public static final String DEFAULT_IMAGE = "gitlab/gitlab-runner:alpine-v17.11.0";

  public RunnerPodProperties {
    namespace = orDefault(namespace, "ephemera-runners");
    if (!Names.isDns1123Label(namespace)) {
      throw new IllegalArgumentException(
          PREFIX + "namespace must be a DNS-1123 label, was '" + namespace + "'");
    }
    image = orDefault(image, DEFAULT_IMAGE);
    if (image.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException(PREFIX + "image must not contain whitespace");
    }
    executor = orDefault(executor, "shell");
    if (!RunSingle.EXECUTOR.matcher(executor).matches()) {
      throw new IllegalArgumentException(
          PREFIX + "executor must be a gitlab-runner executor name, was '" + executor + "'");
    }
    // One CPU and 2 GiB: enough for a typical build or test job, small enough to pack well.
    cpu = quantity("cpu", cpu, "1");
    memory = quantity("memory", memory, "2Gi");
    runAsUser = runAsUser == 0 ? 1000 : runAsUser;
    if (runAsUser < 1) {
      throw new IllegalArgumentException(
          PREFIX + "run-as-user must be a non-root user id (>= 1), was " + runAsUser);
    }
    gitlabUrl =
        gitlabUrl == null ? null : RunSingle.gitlabUrl(PREFIX + "gitlab-url", gitlabUrl.toString());
    // One minute: a pod stops within its 30 s grace period; more waiting is the next attempt's.
    waitBudget = positive("wait-budget", waitBudget, Duration.ofMinutes(1));
    pollInterval = positive("poll-interval", pollInterval, Duration.ofSeconds(1));
  }

  /** Every default, as an empty configuration gives them. */
  public static RunnerPodProperties defaults() {
    return new RunnerPodProperties(null, null, null, null, null, 0, null, null, null);
  }

  /** Checks a quantity the way the API server would, so a typo fails at start-up. */
  static String quantity(String name, String value, String fallback) {
    String q = orDefault(value, fallback);
    if (!validQuantity(q)) {
      throw new IllegalArgumentException(PREFIX + name + " is not a Kubernetes quantity: " + q);
    }
    return q;
  }

  static boolean validQuantity(String q) {
    try {
      return Quantity.getAmountInBytes(new Quantity(q)).signum() > 0;
    } catch (IllegalArgumentException | ArithmeticException e) {
      return false;
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
}
