package io.ephemera.activity.kubernetes;

/**
 * The environment to run: {@code image} at {@code sha}, served at {@code host}, pulled with the
 * Secret {@code imagePullSecret} of its namespace ({@code null}: no pull secret). Port, replicas,
 * resources and TLS come from configuration.
 */
public record WorkloadSpec(
    String namespace,
    String workflowId,
    String sha,
    String image,
    String host,
    String imagePullSecret) {

  /** A workload pulled without a pull secret. */
  public WorkloadSpec(String namespace, String workflowId, String sha, String image, String host) {
    this(namespace, workflowId, sha, image, host, null);
  }
}
