package io.ephemera.runner;

import static org.assertj.core.api.Assertions.fail;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;
import static org.mockito.Mockito.withSettings;

import io.ephemera.activity.compute.ComputeActivities;
import io.ephemera.activity.compute.ComputeRef;
import io.ephemera.activity.compute.ProvisionRequest;
import io.ephemera.activity.config.ConfigActivities;
import io.ephemera.activity.config.RunnerSettings;
import io.ephemera.activity.gitlab.CreateRunnerRequest;
import io.ephemera.activity.gitlab.GitLabRunnerActivities;
import io.ephemera.activity.gitlab.JobState;
import io.ephemera.activity.gitlab.RegisteredRunner;
import io.ephemera.activity.slots.RunnerSlotActivities;
import io.ephemera.common.ActivityDefaults;
import io.ephemera.common.EphemeraSearchAttributes;
import io.ephemera.common.FailureType;
import io.ephemera.common.TaskQueues;
import io.ephemera.common.WorkflowIds;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.activity.ActivityOptions;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.client.ActivityCompletionException;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.RetryOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkflowImplementationOptions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * The one way tests build a runner worker: the settings the workflows read, the activity options
 * the worker would supply (the workflows set none), mocks with sensible answers, and client helpers
 * that speak to the workflows the way the api does.
 */
final class RunnerTesting {
  static final long PROJECT_ID = 42;
  static final String PROJECT_PATH = "group/shop";
  static final long JOB_ID = 1001;
  static final String WORKFLOW_ID = WorkflowIds.runner(PROJECT_ID, JOB_ID);
  static final String SLOTS_ID = WorkflowIds.runnerSlots(PROJECT_ID);
  static final List<String> TAGS = List.of("docker", "linux");

  /** A job with the same tags that another runner workflow was made for. */
  static final long OTHER_JOB_ID = 1002;

  /** Some other runner, e.g. the one made for {@link #OTHER_JOB_ID}. */
  static final long OTHER_RUNNER_ID = 77;

  static final Duration WAIT_TIMEOUT = Duration.ofMinutes(10);
  static final Duration MAX_LIFETIME = Duration.ofHours(3);
  static final Duration POLL_INTERVAL = Duration.ofSeconds(30);
  static final Duration MAX_POLL_INTERVAL = Duration.ofMinutes(5);
  static final int JOB_TIMEOUT_SECONDS = 3600;

  static final RunnerRoute KUBERNETES =
      new RunnerRoute(
          "default", RunnerType.KUBERNETES, "2", "4Gi", null, "gitlab/gitlab-runner", null, null);
  static final RunnerRoute EC2 =
      new RunnerRoute(
          "large", RunnerType.EC2, null, null, "c7i.xlarge", null, "ami-0abc", Duration.ofHours(2));

  /** How long a test waits, in real time, for a workflow to reach a state. */
  static final Duration PATIENCE = Duration.ofSeconds(15);

  private RunnerTesting() {}

  static RunnerSettings settings(int maxConcurrent) {
    return new RunnerSettings(
        maxConcurrent,
        WAIT_TIMEOUT,
        MAX_LIFETIME,
        POLL_INTERVAL,
        MAX_POLL_INTERVAL,
        JOB_TIMEOUT_SECONDS);
  }

  /** GitLab's id for the runner registered for job {@code jobId}, e.g. 51001 for job 1001. */
  static long runnerIdFor(long jobId) {
    return 50_000 + jobId;
  }

  static final long RUNNER_ID = runnerIdFor(JOB_ID);

  static String workflowId(long jobId) {
    return WorkflowIds.runner(PROJECT_ID, jobId);
  }

  /**
   * What the worker supplies in production, with short values: three attempts one second apart,
   * non-retryable failure types never retried, heartbeat timeouts on provisioning and the wait for
   * termination so a cancelled one learns of it within about a second.
   */
  static WorkflowImplementationOptions workflowImplementationOptions() {
    RetryOptions retry =
        RetryOptions.newBuilder()
            .setInitialInterval(Duration.ofSeconds(1))
            .setBackoffCoefficient(2.0)
            .setMaximumAttempts(3)
            .setDoNotRetry(FailureType.nonRetryableTypes())
            .build();
    ActivityOptions defaults =
        ActivityDefaults.newBuilder()
            .setStartToCloseTimeout(Duration.ofSeconds(30))
            .setRetryOptions(retry)
            .build();
    ActivityOptions waits =
        ActivityOptions.newBuilder(defaults)
            .setStartToCloseTimeout(Duration.ofMinutes(10))
            .setHeartbeatTimeout(Duration.ofSeconds(2))
            .build();
    return WorkflowImplementationOptions.newBuilder()
        .setDefaultActivityOptions(defaults)
        .setActivityOptions(
            ActivityDefaults.perType(
                defaults,
                Map.of("ComputeProvision", waits, "ComputeAwaitTerminated", waits),
                GitLabRunnerActivities.class,
                ComputeActivities.class,
                RunnerSlotActivities.class))
        .build();
  }

  /** Registers both runner workflows the way the worker does. */
  static void registerRunnerWorkflows(Worker worker) {
    registerRunnerWorkflows(worker, RunnerWorkflowImpl.class, RunnerSlotsWorkflowImpl.class);
  }

  /** Registers the given implementations (possibly test-only variants) under the runner types. */
  static void registerRunnerWorkflows(
      Worker worker,
      Class<? extends RunnerWorkflow> runner,
      Class<? extends RunnerSlotsWorkflow> slots) {
    worker.registerWorkflowImplementationTypes(workflowImplementationOptions(), runner, slots);
  }

  /**
   * A started time-skipping environment whose worker runs both runner workflows, the client-side
   * slot activities, and {@code activities} on the runners task queue.
   */
  static TestWorkflowEnvironment startEnvironment(Object... activities) {
    TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance();
    EphemeraSearchAttributes.ALL.forEach(env::registerSearchAttribute);
    Worker worker = env.newWorker(TaskQueues.RUNNERS);
    registerRunnerWorkflows(worker);
    worker.registerActivitiesImplementations(activities);
    worker.registerActivitiesImplementations(new ClientRunnerSlots(env.getWorkflowClient()));
    env.start();
    return env;
  }

  static ConfigActivities configMock(int maxConcurrent) {
    ConfigActivities config = mock(ConfigActivities.class, withSettings().withoutAnnotations());
    when(config.runnerSettings(anyLong())).thenReturn(settings(maxConcurrent));
    return config;
  }

  /**
   * A GitLab mock: registration answers {@link #runnerIdFor} the job, jobs stay pending, and the
   * runner has taken no job, until a test says otherwise.
   */
  static GitLabRunnerActivities gitlabMock() {
    GitLabRunnerActivities gitlab =
        mock(GitLabRunnerActivities.class, withSettings().withoutAnnotations());
    when(gitlab.createRunner(any()))
        .thenAnswer(
            inv -> {
              String workflowId = inv.<CreateRunnerRequest>getArgument(0).workflowId();
              long jobId = Long.parseLong(workflowId.substring(workflowId.indexOf("job-") + 4));
              return new RegisteredRunner(runnerIdFor(jobId), "runner-token/" + workflowId);
            });
    when(gitlab.jobState(anyLong(), anyLong()))
        .thenAnswer(inv -> new JobState(inv.getArgument(1), "pending", null));
    when(gitlab.runnerJobs(anyLong())).thenReturn(List.of());
    return gitlab;
  }

  /** A compute mock: a pod or an instance per workflow, gone as soon as it is terminated. */
  static ComputeActivities computeMock() {
    ComputeActivities compute = mock(ComputeActivities.class, withSettings().withoutAnnotations());
    when(compute.provision(any()))
        .thenAnswer(inv -> computeRef(inv.<ProvisionRequest>getArgument(0)));
    when(compute.awaitTerminated(any())).thenReturn(true);
    return compute;
  }

  static ComputeRef computeRef(ProvisionRequest request) {
    long jobId = request.jobId();
    return request.route().type() == RunnerType.EC2
        ? new ComputeRef(RunnerType.EC2, "i-0" + jobId)
        : new ComputeRef(RunnerType.KUBERNETES, "ephemera-runners/runner-42-job-" + jobId);
  }

  /**
   * Makes provisioning wait, heartbeating as a real one would, until {@code held} is cleared; sets
   * {@code cancelled} when its heartbeat learns the workflow cancelled it.
   */
  static void holdProvisioning(
      ComputeActivities compute,
      AtomicBoolean held,
      AtomicBoolean started,
      AtomicBoolean cancelled) {
    doAnswer(
            inv -> {
              started.set(true);
              ActivityExecutionContext context = Activity.getExecutionContext();
              while (held.get()) {
                try {
                  context.heartbeat(null);
                } catch (ActivityCompletionException e) {
                  cancelled.set(true);
                  throw e;
                }
                sleep(Duration.ofMillis(20));
              }
              return computeRef(inv.getArgument(0));
            })
        .when(compute)
        .provision(any());
  }

  static RunnerRequest request(long jobId, RunnerRoute route) {
    return new RunnerRequest(PROJECT_ID, PROJECT_PATH, jobId, "test:unit", TAGS, route);
  }

  static WorkflowOptions workflowOptions(long jobId) {
    return WorkflowOptions.newBuilder()
        .setWorkflowId(workflowId(jobId))
        .setTaskQueue(TaskQueues.RUNNERS)
        .setWorkflowIdConflictPolicy(
            WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING)
        .build();
  }

  /** What the webhook path does for a pending job. */
  static RunnerWorkflow start(WorkflowClient client, long jobId, RunnerRoute route) {
    RunnerWorkflow runner = client.newWorkflowStub(RunnerWorkflow.class, workflowOptions(jobId));
    WorkflowClient.start(runner::run, request(jobId, route));
    return client.newWorkflowStub(RunnerWorkflow.class, workflowId(jobId));
  }

  /** The workflow's result; waiting for it lets the test server skip time. */
  static RunnerStatus result(RunnerWorkflow runner) {
    return WorkflowStub.fromTyped(runner).getResult(RunnerStatus.class);
  }

  /** Polls {@code status()} in real time (time does not skip meanwhile) until it holds. */
  static RunnerStatus awaitStatus(
      RunnerWorkflow runner, String description, Predicate<RunnerStatus> condition) {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    RunnerStatus last = null;
    while (System.nanoTime() < deadline) {
      last = runner.status();
      if (condition.test(last)) {
        return last;
      }
      sleep(Duration.ofMillis(20));
    }
    return fail("status never became %s; last was %s", description, last);
  }

  static RunnerStatus awaitPhase(RunnerWorkflow runner, RunnerPhase phase) {
    return awaitStatus(runner, phase.name(), s -> s.phase() == phase);
  }

  /** Waits in real time until {@code condition} holds. */
  static void awaitTrue(String description, BooleanSupplier condition) {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("timed out waiting until " + description);
      }
      sleep(Duration.ofMillis(20));
    }
  }

  static void sleep(Duration d) {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static JobEvent event(long jobId, String status, Long runnerId) {
    return new JobEvent(jobId, status, runnerId);
  }

  static List<RunnerPhase> phases(RunnerStatus status) {
    return status.history().stream().map(RunnerStatus.PhaseChange::phase).toList();
  }
}
