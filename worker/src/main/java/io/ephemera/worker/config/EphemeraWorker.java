package io.ephemera.worker.config;

import io.ephemera.activity.config.ConfigActivitiesImpl;
import io.ephemera.activity.kubernetes.KubernetesActivitiesImpl;
import io.ephemera.common.TaskQueues;
import io.ephemera.reviewapp.ReviewAppWorkflowImpl;
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
  private volatile boolean running;

  public EphemeraWorker(
      WorkflowClient client,
      WorkerProperties properties,
      ActivitiesProperties activities,
      KubernetesActivitiesImpl kubernetes,
      ConfigActivitiesImpl config) {
    this.properties = properties;
    this.factory =
        WorkerFactory.newInstance(
            client,
            WorkerFactoryOptions.newBuilder()
                .setUsingVirtualWorkflowThreads(properties.virtualThreads())
                .build());
    Worker reviewApps = factory.newWorker(TaskQueues.REVIEW_APPS);
    reviewApps.registerWorkflowImplementationTypes(
        workflowOptions(activities), ReviewAppWorkflowImpl.class);
    reviewApps.registerActivitiesImplementations(kubernetes, config);
  }

  static WorkflowImplementationOptions workflowOptions(ActivitiesProperties activities) {
    return WorkflowImplementationOptions.newBuilder()
        .setDefaultActivityOptions(activities.defaultActivityOptions())
        .setActivityOptions(activities.perTypeActivityOptions())
        .build();
  }

  @Override
  public void start() {
    factory.start();
    running = true;
    log.info("Temporal worker polling task queue {}", TaskQueues.REVIEW_APPS);
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
