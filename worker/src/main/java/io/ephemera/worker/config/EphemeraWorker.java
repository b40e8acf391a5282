package io.ephemera.worker.config;

import io.ephemera.activity.compute.ComputeActivities;
import io.ephemera.activity.compute.ComputeActivitiesImpl;
import io.ephemera.activity.config.ConfigActivitiesImpl;
import io.ephemera.activity.gitlab.GitLabFeedbackActivities;
import io.ephemera.activity.gitlab.GitLabFeedbackActivitiesImpl;
import io.ephemera.activity.gitlab.GitLabRunnerActivities;
import io.ephemera.activity.gitlab.GitLabRunnerActivitiesImpl;
import io.ephemera.activity.kubernetes.KubernetesActivities;
import io.ephemera.activity.kubernetes.KubernetesActivitiesImpl;
import io.ephemera.activity.slots.RunnerSlotActivities;
import io.ephemera.activity.slots.RunnerSlotActivitiesImpl;
import io.ephemera.common.TaskQueues;
import io.ephemera.reviewapp.ReviewAppWorkflowImpl;
import io.ephemera.runner.RunnerSlotsWorkflowImpl;
import io.ephemera.runner.RunnerWorkflowImpl;
import io.temporal.client.WorkflowClient;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerFactoryOptions;
import io.temporal.worker.WorkflowImplementationOptions;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * The Temporal worker of this process. Built here rather than through the starter's worker
 * properties so that activity options come from {@code ephemera.activities.*} and workflow code
 * stays free of Spring annotations.
 */
public class EphemeraWorker implements SmartLifecycle {
  private static final Logger log = LoggerFactory.getLogger(EphemeraWorker.class);

  private final WorkerFactory factory;
  private final WorkerProperties properties;
  private final SearchAttributeRegistrar searchAttributes;
  private volatile boolean running;

  public EphemeraWorker(
      WorkflowClient client,
      WorkerProperties properties,
      ActivitiesProperties activities,
      KubernetesActivitiesImpl kubernetes,
      ConfigActivitiesImpl config,
      GitLabRunnerActivitiesImpl gitlabRunners,
      ComputeActivitiesImpl compute,
      RunnerSlotActivitiesImpl slots,
      GitLabFeedbackActivitiesImpl feedback,
      SearchAttributeRegistrar searchAttributes) {
    this.properties = properties;
    this.searchAttributes = searchAttributes;
    this.factory =
        WorkerFactory.newInstance(
            client,
            WorkerFactoryOptions.newBuilder()
                .setUsingVirtualWorkflowThreads(properties.virtualThreads())
                .build());
    WorkflowImplementationOptions options = workflowOptions(activities);
    Worker reviewApps = factory.newWorker(TaskQueues.REVIEW_APPS);
    reviewApps.registerWorkflowImplementationTypes(options, ReviewAppWorkflowImpl.class);
    reviewApps.registerActivitiesImplementations(kubernetes, config, feedback);
    // Runners get their own queue so a burst of pending jobs never delays review-app deploys.
    Worker runners = factory.newWorker(TaskQueues.RUNNERS);
    runners.registerWorkflowImplementationTypes(
        options, RunnerWorkflowImpl.class, RunnerSlotsWorkflowImpl.class);
    runners.registerActivitiesImplementations(gitlabRunners, compute, config, slots);
  }

  static WorkflowImplementationOptions workflowOptions(ActivitiesProperties activities) {
    return WorkflowImplementationOptions.newBuilder()
        .setDefaultActivityOptions(activities.defaultActivityOptions())
        .setActivityOptions(
            activities.perTypeActivityOptions(
                KubernetesActivities.class,
                GitLabFeedbackActivities.class,
                GitLabRunnerActivities.class,
                ComputeActivities.class,
                RunnerSlotActivities.class))
        .build();
  }

  @Override
  public void start() {
    searchAttributes.ensureRegistered();
    factory.start();
    running = true;
    log.info(
        "Temporal worker polling task queues {} and {}",
        TaskQueues.REVIEW_APPS,
        TaskQueues.RUNNERS);
  }

  @Override
  public void stop() {
    factory.shutdown();
    try {
      factory.awaitTermination(properties.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS);
      if (!factory.isTerminated()) {
        log.warn("Worker did not finish in {}; stopping now", properties.shutdownGrace());
        factory.shutdownNow();
      }
    } catch (RuntimeException e) {
      log.warn("Worker shutdown interrupted; stopping now", e);
      factory.shutdownNow();
    }
    running = false;
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  /** Stop before the web server and the Temporal client go away, start after they are up. */
  @Override
  public int getPhase() {
    return SmartLifecycle.DEFAULT_PHASE - 1024;
  }
}
