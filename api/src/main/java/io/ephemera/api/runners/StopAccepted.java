package io.ephemera.api.runners;

/** Answer of {@code POST .../stop}: the stop was recorded; teardown continues in the workflow. */
record StopAccepted(String accepted, String workflowId, String reason) {
  StopAccepted(String workflowId, String reason) {
    this("stop", workflowId, reason);
  }
}
