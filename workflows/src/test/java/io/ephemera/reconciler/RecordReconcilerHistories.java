package io.ephemera.reconciler;

import static io.ephemera.reconciler.ReconcilerTesting.build;
import static io.ephemera.reconciler.ReconcilerTesting.failed;
import static io.ephemera.reconciler.ReconcilerTesting.gitlabRunner;
import static io.ephemera.reconciler.ReconcilerTesting.instance;
import static io.ephemera.reconciler.ReconcilerTesting.lease;
import static io.ephemera.reconciler.ReconcilerTesting.namespace;
import static io.ephemera.reconciler.ReconcilerTesting.pod;
import static io.ephemera.reconciler.ReconcilerTesting.settings;
import static io.ephemera.reconciler.ReconcilerTesting.start;
import static io.ephemera.reconciler.ReconcilerTesting.startEnvironment;
import static io.ephemera.reconciler.ReconcilerTesting.withOrphans;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import io.ephemera.activity.build.BuildActivities;
import io.ephemera.activity.compute.ComputeActivities;
import io.ephemera.activity.credentials.CredentialActivities;
import io.ephemera.activity.gitlab.GitLabRunnerActivities;
import io.ephemera.activity.kubernetes.KubernetesActivities;
import io.ephemera.activity.reconciler.ListRequest;
import io.ephemera.activity.reconciler.ReconcilerActivities;
import io.ephemera.activity.reconciler.RepairAction;
import io.ephemera.activity.reconciler.RepairKind;
import io.ephemera.activity.reconciler.RepairPlan;
import io.ephemera.activity.reconciler.ResourceKinds;
import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestWorkflowEnvironment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Records the histories {@link ReconcilerReplayTest} replays. Off by default; run it when workflow
 * logic changes, and keep the histories recorded before:
 *
 * <pre>
 * ./mvnw -B -pl workflows test -Dtest=RecordReconcilerHistories -Dephemera.record-histories=true
 * </pre>
 */
@EnabledIfSystemProperty(named = "ephemera.record-histories", matches = "true")
class RecordReconcilerHistories {
  private static final Path DIR =
      Path.of(System.getProperty("ephemera.histories-dir", "src/test/resources/histories"));

  /**
   * Pass 1 reaps one orphan of every kind and makes a deploy and a stop repair; pass 2 finds the
   * cluster failing and reaps only what does not depend on it; then the reconciler is disabled.
   *
   * <p>Histories: {@code two-passes-cluster-failing.json} was recorded before the {@code build}
   * kind existed (five kinds); {@code two-passes-cluster-failing-builds.json} with it. Each new
   * recording goes to a new file name.
   */
  @Test
  void twoPassesTheSecondWithTheClusterFailing() throws IOException {
    ReconcilerActivities reconciler = mock(ReconcilerActivities.class);
    when(reconciler.settings())
        .thenReturn(settings(true, false), settings(true, false), settings(false, false));
    AtomicInteger namespaceListings = new AtomicInteger();
    when(reconciler.list(any()))
        .thenAnswer(
            i -> {
              String kind = ((ListRequest) i.getArgument(0)).kind();
              return switch (kind) {
                case ResourceKinds.NAMESPACE ->
                    namespaceListings.incrementAndGet() == 1
                        ? withOrphans(kind, namespace())
                        : failed(kind, "kubernetes", "HTTP 500 listing namespaces");
                case ResourceKinds.RUNNER_POD -> withOrphans(kind, pod());
                case ResourceKinds.INSTANCE -> withOrphans(kind, instance());
                case ResourceKinds.GITLAB_RUNNER -> withOrphans(kind, gitlabRunner());
                case ResourceKinds.BUILD -> withOrphans(kind, build());
                default -> withOrphans(kind, lease());
              };
            });
    RepairAction deploy =
        new RepairAction(
            RepairKind.REVIEW_APP_DEPLOY,
            42,
            "group/shop",
            8,
            "Add cart",
            "a".repeat(40),
            "feature/cart",
            "no review app",
            List.of());
    RepairAction runner =
        new RepairAction(
            RepairKind.RUNNER_START,
            42,
            "group/shop",
            1003,
            "test",
            null,
            null,
            "pending job without runner",
            List.of("docker"));
    when(reconciler.planRepairs(any()))
        .thenReturn(new RepairPlan(List.of(deploy, runner), 1, 1, 1, 0, Map.of()));
    when(reconciler.repair(any())).thenReturn("started");
    try (TestWorkflowEnvironment env =
        startEnvironment(
            reconciler,
            mock(KubernetesActivities.class),
            mock(ComputeActivities.class),
            mock(GitLabRunnerActivities.class),
            mock(CredentialActivities.class),
            mock(BuildActivities.class))) {
      ReconcilerWorkflow workflow = start(env.getWorkflowClient());
      WorkflowStub.fromTyped(workflow).getResult(Void.class);
      Path file = DIR.resolve("reconciler/two-passes-cluster-failing-builds.json");
      Files.createDirectories(file.getParent());
      Files.writeString(
          file, env.getWorkflowClient().fetchHistory(ReconcilerWorkflow.ID).toJson(true) + "\n");
      System.out.println("Recorded " + file.toAbsolutePath());
    }
  }
}
