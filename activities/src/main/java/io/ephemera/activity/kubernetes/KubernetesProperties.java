package io.ephemera.activity.kubernetes;

import io.fabric8.kubernetes.api.model.Quantity;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code ephemera.kubernetes.*}: where and how review apps run. Every component has a default, so
 * an empty configuration is a working one; {@code null} (and {@code 0} for the two numbers, which
 * no sane configuration means) stand for "unset" so the record can be built by hand as easily as by
 * Spring. Invalid values fail at start-up rather than at the first deploy.
 *
 * @param sandbox run against the in-process {@code io.ephemera.sandbox.SandboxCluster} instead of a
 *     real cluster; honoured by the {@code local} profile only
 * @param ingressNamespace namespace of the ingress controller, the only one whose pods the {@code
 *     allow-from-ingress} NetworkPolicy admits into a review namespace
 * @param ingressClassName the IngressClass every review Ingress asks for
 * @param tls how review Ingresses serve TLS
 * @param containerPort the port the review app listens on inside its container
 * @param replicas pods per review app
 * @param quota the ResourceQuota of each review namespace
 * @param limits the LimitRange container defaults of each review namespace
 * @param rolloutPollInterval pause between two reads of a Deployment's status
 * @param rolloutWaitBudget how long one awaitRollout attempt waits before failing with the
 *     retryable {@code RolloutPending}; it must stay below the activity's start-to-close timeout
 * @param namespaceWaitBudget how long one awaitNamespaceGone attempt waits before answering "not
 *     gone yet"
 * @param namespacePollInterval pause between two reads of a namespace being deleted
 */
@ConfigurationProperties("ephemera.kubernetes")
public record KubernetesProperties(
    boolean sandbox,
    String ingressNamespace,
    String ingressClassName,
    Tls tls,
    @DefaultValue("8080") int containerPort,
    @DefaultValue("1") int replicas,
    Quota quota,
    Limits limits,
    Duration rolloutPollInterval,
    Duration rolloutWaitBudget,
    Duration namespaceWaitBudget,
    Duration namespacePollInterval) {

  public KubernetesProperties {
    ingressNamespace = orDefault(ingressNamespace, "ingress-nginx");
    ingressClassName = orDefault(ingressClassName, "nginx");
    tls = tls == null ? Tls.DEFAULT : tls;
    containerPort = containerPort == 0 ? 8080 : containerPort;
    if (containerPort < 1 || containerPort > 65535) {
      throw new IllegalArgumentException(
          "ephemera.kubernetes.container-port must be 1..65535, was " + containerPort);
    }
    replicas = replicas == 0 ? 1 : replicas;
    if (replicas < 1) {
      throw new IllegalArgumentException(
          "ephemera.kubernetes.replicas must be at least 1, was " + replicas);
    }
    quota = quota == null ? Quota.DEFAULT : quota;
    limits = limits == null ? Limits.DEFAULT : limits;
    // Two seconds: a rollout takes tens of seconds, and each poll is one GET plus one heartbeat.
    rolloutPollInterval = positive("rollout-poll-interval", rolloutPollInterval, "PT2S");
    // Five minutes: long enough for an image pull and a slow start, short enough that a worker
    // restart or a lost heartbeat costs little, since the next attempt simply resumes waiting.
    rolloutWaitBudget = positive("rollout-wait-budget", rolloutWaitBudget, "PT5M");
    namespaceWaitBudget = positive("namespace-wait-budget", namespaceWaitBudget, "PT1M");
    namespacePollInterval = positive("namespace-poll-interval", namespacePollInterval, "PT1S");
  }

  /** Every default, as an empty configuration gives them. */
  public static KubernetesProperties defaults() {
    return new KubernetesProperties(
        false, null, null, null, 0, 0, null, null, null, null, null, null);
  }

  /**
   * TLS of review Ingresses.
   *
   * @param enabled whether Ingresses carry a TLS block (and so whether review URLs are https)
   * @param secretName the certificate Secret the TLS block names. Ingress TLS Secrets are read from
   *     the Ingress's own namespace, so a shared wildcard certificate must be mirrored into every
   *     review namespace (or be the ingress controller's default certificate, which ingress-nginx
   *     falls back to when the named Secret is missing); with {@code clusterIssuer} set,
   *     cert-manager creates it per namespace instead
   * @param clusterIssuer the cert-manager ClusterIssuer to request a certificate from; blank means
   *     no cert-manager annotation
   */
  public record Tls(
      @DefaultValue("true") boolean enabled, String secretName, String clusterIssuer) {
    static final Tls DEFAULT = new Tls(true, null, null);

    public Tls {
      secretName = orDefault(secretName, "review-apps-tls");
      clusterIssuer = clusterIssuer == null || clusterIssuer.isBlank() ? null : clusterIssuer;
    }
  }

  /**
   * The ResourceQuota of a review namespace: what one merge request may use at most. The defaults
   * fit a typical web app with a little headroom for a rolling update's extra pod and an image
   * build Job.
   */
  public record Quota(
      String requestsCpu,
      String requestsMemory,
      String limitsCpu,
      String limitsMemory,
      String pods) {
    static final Quota DEFAULT = new Quota(null, null, null, null, null);

    public Quota {
      requestsCpu = quantity("quota.requests-cpu", requestsCpu, "2");
      requestsMemory = quantity("quota.requests-memory", requestsMemory, "4Gi");
      limitsCpu = quantity("quota.limits-cpu", limitsCpu, "4");
      limitsMemory = quantity("quota.limits-memory", limitsMemory, "8Gi");
      pods = quantity("quota.pods", pods, "20");
    }
  }

  /**
   * Container defaults of the LimitRange. A quota on requests and limits makes the API server
   * reject every pod that does not state them; these defaults fill them in, so review apps need
   * not.
   */
  public record Limits(
      String defaultRequestCpu,
      String defaultRequestMemory,
      String defaultCpu,
      String defaultMemory) {
    static final Limits DEFAULT = new Limits(null, null, null, null);

    public Limits {
      defaultRequestCpu = quantity("limits.default-request-cpu", defaultRequestCpu, "100m");
      defaultRequestMemory =
          quantity("limits.default-request-memory", defaultRequestMemory, "128Mi");
      defaultCpu = quantity("limits.default-cpu", defaultCpu, "500m");
      defaultMemory = quantity("limits.default-memory", defaultMemory, "512Mi");
    }
  }

  private static String orDefault(String value, String fallback) {
    return value == null || value.isBlank() ? fallback : value;
  }

  private static Duration positive(String name, Duration value, String fallback) {
    Duration d = value == null ? Duration.parse(fallback) : value;
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("ephemera.kubernetes." + name + " must be positive");
    }
    return d;
  }

  private static String quantity(String name, String value, String fallback) {
    String q = orDefault(value, fallback);
    try {
      // Parsing here turns a typo into a start-up error instead of a 422 on every deploy.
      Quantity.getAmountInBytes(new Quantity(q));
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new IllegalArgumentException(
          "ephemera.kubernetes." + name + " is not a Kubernetes quantity: " + q, e);
    }
    return q;
  }
}
