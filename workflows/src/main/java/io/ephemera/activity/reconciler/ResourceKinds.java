package io.ephemera.activity.reconciler;

import java.util.List;

/**
 * The kinds of managed resources the reaper lists, and the source each one's listing and deletion
 * depend on. Kind and source names are metric labels and appear in the reconciler's report: never
 * rename.
 */
public final class ResourceKinds {
  /** Review-app namespaces (label {@code app.kubernetes.io/managed-by=ephemera}). */
  public static final String NAMESPACE = "namespace";

  /** Runner pods in the cluster. */
  public static final String RUNNER_POD = "runner-pod";

  /** EC2 runner instances, by tag. */
  public static final String INSTANCE = "instance";

  /** GitLab runners whose description names an Ephemera workflow. */
  public static final String GITLAB_RUNNER = "gitlab-runner";

  /** Vault leases in Ephemera's lease index. */
  public static final String LEASE = "lease";

  /**
   * Image builds in the build namespace: Kaniko Jobs, and credentials Secrets whose Job never came
   * or is gone. Deleted through the same {@code BuildActivities.deleteBuild} teardown uses.
   */
  public static final String BUILD = "build";

  /** In listing order; a new kind goes last, so earlier kinds keep their place in a pass. */
  public static final List<String> ALL =
      List.of(NAMESPACE, RUNNER_POD, INSTANCE, GITLAB_RUNNER, LEASE, BUILD);

  public static final String SOURCE_KUBERNETES = "kubernetes";
  public static final String SOURCE_EC2 = "ec2";
  public static final String SOURCE_GITLAB = "gitlab";
  public static final String SOURCE_VAULT = "vault";

  /** Every owner check asks Temporal, so every kind depends on it too. */
  public static final String SOURCE_TEMPORAL = "temporal";

  private ResourceKinds() {}

  /** The system a kind is listed from and deleted in. */
  public static String source(String kind) {
    return switch (kind) {
      case NAMESPACE, RUNNER_POD, BUILD -> SOURCE_KUBERNETES;
      case INSTANCE -> SOURCE_EC2;
      case GITLAB_RUNNER -> SOURCE_GITLAB;
      case LEASE -> SOURCE_VAULT;
      default -> throw new IllegalArgumentException("unknown resource kind " + kind);
    };
  }
}
