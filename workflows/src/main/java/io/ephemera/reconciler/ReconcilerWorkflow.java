package io.ephemera.reconciler;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * The one reconciler, id {@value #ID}: a loop of passes that repair what missed webhooks left
 * undone and reap managed resources whose owning workflow is gone. Every name here is stored in
 * history: never rename.
 */
@WorkflowInterface
public interface ReconcilerWorkflow {
  String ID = "reconciler";
  String TYPE = "Reconciler";
  String QUERY_STATUS = "status";
  String SIGNAL_PASS_NOW = "passNow";

  @WorkflowMethod(name = TYPE)
  void run(ReconcilerRequest request);

  @QueryMethod(
      name = QUERY_STATUS,
      description =
          "The last pass (when, how long, counts per kind, repairs, errors per source, dry run),"
              + " when the next one starts, and whether one is running now.")
  ReconcilerStatus status();

  @SignalMethod(
      name = SIGNAL_PASS_NOW,
      description = "Start the next pass now instead of at the end of the sleep. No argument.")
  void passNow();
}
