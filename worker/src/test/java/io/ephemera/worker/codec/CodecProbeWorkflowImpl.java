package io.ephemera.worker.codec;

import io.temporal.activity.Activity;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.workflow.Workflow;
import java.time.Duration;

public class CodecProbeWorkflowImpl implements CodecProbeWorkflow {
  private final CodecProbeActivities activities =
      Workflow.newActivityStub(
          CodecProbeActivities.class,
          ActivityOptions.newBuilder()
              .setStartToCloseTimeout(Duration.ofSeconds(10))
              .setRetryOptions(
                  RetryOptions.newBuilder()
                      .setInitialInterval(Duration.ofMillis(100))
                      .setMaximumAttempts(3)
                      .build())
              .build());

  @Override
  public String run(String marker) {
    try {
      activities.refuse(marker);
    } catch (ActivityFailure expected) {
      // Recorded in history as ActivityTaskFailed, which is what the probe is for.
    }
    String echoed = activities.echo(marker);
    throw ApplicationFailure.newNonRetryableFailure(
        "probe failed on " + echoed, "CodecProbe", echoed);
  }

  /** The activity: its first attempt fails, quoting the marker in message and stack trace. */
  public static class Activities implements CodecProbeActivities {
    @Override
    public String echo(String marker) {
      if (Activity.getExecutionContext().getInfo().getAttempt() == 1) {
        throw ApplicationFailure.newFailure("first attempt refused " + marker, "CodecProbe");
      }
      return marker;
    }

    @Override
    public void refuse(String marker) {
      throw ApplicationFailure.newNonRetryableFailure("refused " + marker, "CodecProbe", marker);
    }
  }
}
