package io.ephemera.apitest;

import io.ephemera.activity.reconciler.KindReport;
import io.ephemera.activity.reconciler.PassReport;
import io.ephemera.reconciler.ReconcilerRequest;
import io.ephemera.reconciler.ReconcilerStatus;
import io.ephemera.reconciler.ReconcilerWorkflow;
import io.temporal.workflow.Workflow;
import java.time.Instant;
import java.util.Map;

/**
 * Stands in for the reconciler on the test server, under the same type and handler names: it
 * reports one canned pass (the one it was started with, if any) and ends on {@code passNow}.
 */
public class FakeReconcilerWorkflow implements ReconcilerWorkflow {
  /** The pass a test starts the fake with. */
  public static final PassReport PASS =
      new PassReport(
          3,
          Instant.parse("2026-01-01T10:00:00Z"),
          Instant.parse("2026-01-01T10:00:02Z"),
          2000,
          false,
          Map.of("namespace", new KindReport(12, 3600L, 2, 1, 1, null)),
          Map.of("review-app-deploy", 1L),
          Map.of("gitlab", "GET /projects/1/merge_requests: HTTP 502"),
          Map.of("lease", "no lease index on this worker"));

  private ReconcilerRequest request;
  private boolean end;

  @Override
  public void run(ReconcilerRequest request) {
    this.request = request;
    Workflow.await(() -> end);
  }

  @Override
  public ReconcilerStatus status() {
    return new ReconcilerStatus(
        request == null ? null : request.lastPass(),
        false,
        Instant.parse("2026-01-01T10:05:00Z"),
        request == null ? 0 : request.passes());
  }

  @Override
  public void passNow() {
    end = true;
  }
}
