package io.ephemera.apitest;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.WorkflowInterface;
import java.util.List;

/**
 * Lets a test see every job event the fake runner received, in order, as {@code
 * <signal>:<jobId>:<status>:<runnerId>}.
 */
@WorkflowInterface
public interface JobEventLog {
  String QUERY = "jobEvents";

  @QueryMethod(name = QUERY)
  List<String> jobEvents();
}
