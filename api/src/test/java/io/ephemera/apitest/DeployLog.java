package io.ephemera.apitest;

import io.ephemera.reviewapp.DeployRequest;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.WorkflowInterface;
import java.util.List;

/** Lets a test see every deploy signal the fake received, duplicates included. */
@WorkflowInterface
public interface DeployLog {
  String QUERY = "deploys";

  @QueryMethod(name = QUERY)
  List<DeployRequest> deploys();
}
