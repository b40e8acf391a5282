package io.ephemera.activity.compute;

import io.ephemera.common.FailureType;
import io.ephemera.runner.RunnerType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compute of single-use runners: dispatches on the route's {@link RunnerType} to {@link RunnerPods}
 * (Kubernetes) or {@link Ec2Runners} (EC2). Either may be absent when that kind of runner is not
 * configured on this worker.
 *
 * <p>Provisioning on an absent kind fails for good ({@code CloudInvalid}): no retry configures it.
 * Terminating on an absent kind succeeds, with a warning: this worker cannot have provisioned
 * anything there (provision refuses), and a compensation that can never succeed would only keep the
 * workflow from finishing. Workers of one task queue must therefore share their runner
 * configuration.
 */
public class ComputeActivitiesImpl implements ComputeActivities {
  private static final Logger log = LoggerFactory.getLogger(ComputeActivitiesImpl.class);

  private final RunnerPods pods;
  private final Ec2Runners ec2;

  /**
   * @param pods Kubernetes runners, or {@code null} when not configured
   * @param ec2 EC2 runners, or {@code null} when not configured
   */
  public ComputeActivitiesImpl(RunnerPods pods, Ec2Runners ec2) {
    this.pods = pods;
    this.ec2 = ec2;
  }

  @Override
  public ComputeRef provision(ProvisionRequest request) {
    if (request == null || request.route() == null || request.route().type() == null) {
      throw FailureType.CloudInvalid.failure("provision request without a route or its type");
    }
    if (request.runnerTokenRef() == null || request.runnerTokenRef().isBlank()) {
      throw FailureType.RunnerTokenMissing.failure(
          "provision request for " + request.workflowId() + " names no runner token");
    }
    return switch (request.route().type()) {
      case KUBERNETES -> requirePods().provision(request);
      case EC2 -> requireEc2().provision(request);
    };
  }

  @Override
  public void terminate(TerminateRequest request) {
    RunnerType type = type(request);
    switch (type) {
      case KUBERNETES -> {
        if (pods == null) {
          notConfigured(type, request.workflowId());
        } else {
          pods.terminate(request.workflowId());
        }
      }
      case EC2 -> {
        if (ec2 == null) {
          notConfigured(type, request.workflowId());
        } else {
          ec2.terminate(request.workflowId());
        }
      }
    }
  }

  @Override
  public boolean awaitTerminated(TerminateRequest request) {
    RunnerType type = type(request);
    return switch (type) {
      case KUBERNETES -> pods == null || pods.awaitTerminated(request.workflowId());
      case EC2 -> ec2 == null || ec2.awaitTerminated(request.workflowId());
    };
  }

  private RunnerPods requirePods() {
    if (pods == null) {
      throw FailureType.CloudInvalid.failure(
          "Kubernetes runners are not configured on this worker (ephemera.runners.kubernetes)");
    }
    return pods;
  }

  private Ec2Runners requireEc2() {
    if (ec2 == null) {
      throw FailureType.CloudInvalid.failure(
          "EC2 runners are not configured on this worker (ephemera.runners.ec2)");
    }
    return ec2;
  }

  private static RunnerType type(TerminateRequest request) {
    if (request == null || request.type() == null) {
      throw FailureType.CloudInvalid.failure("terminate request without a runner type");
    }
    return request.type();
  }

  private static void notConfigured(RunnerType type, String workflowId) {
    log.warn(
        "{} runners are not configured on this worker: nothing of {} to terminate here",
        type,
        workflowId);
  }
}
