package io.ephemera.worker.config;

import io.temporal.activity.ActivityInterface;
import io.temporal.client.WorkflowClient;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerFactoryOptions;
import io.temporal.worker.WorkflowImplementationOptions;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
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

  private final WorkflowClient client;
  private final WorkerProperties properties;
  private final SearchAttributeRegistrar searchAttributes;
  private final WorkflowImplementationOptions options;
  private final List<TaskQueueWorkflows> workflows;
  private final List<TaskQueueActivities> activityImplementations;
  private final List<String> taskQueues;

  /** Guarded by this: a factory that was shut down cannot start again, so each start builds one. */
  private WorkerFactory factory;

  private volatile boolean running;

  public EphemeraWorker(
      WorkflowClient client,
      WorkerProperties properties,
      ActivitiesProperties activities,
      List<TaskQueueWorkflows> workflows,
      List<TaskQueueActivities> activityImplementations,
      SearchAttributeRegistrar searchAttributes) {
    this.client = client;
    this.properties = properties;
    this.searchAttributes = searchAttributes;
    this.workflows = List.copyOf(workflows);
    this.activityImplementations = List.copyOf(activityImplementations);
    this.options = workflowOptions(activities, activityInterfaces(activityImplementations));
    this.factory = newFactory();
    this.taskQueues = List.copyOf(workerQueues());
  }

  /** A factory with one worker per task queue, every workflow and activity registered. */
  private WorkerFactory newFactory() {
    WorkerFactory f =
        WorkerFactory.newInstance(
            client,
            WorkerFactoryOptions.newBuilder()
                .setUsingVirtualWorkflowThreads(properties.virtualThreads())
                // Workflow id, project and MR/job on every line an activity logs.
                .setWorkerInterceptors(new ActivityLoggingInterceptor())
                .setWorkflowCacheSize(properties.workflowCacheSize())
                .build());
    // Each queue gets its own worker: runners have theirs so a burst of pending jobs never delays
    // review-app deploys.
    Map<String, Worker> workers = new TreeMap<>();
    for (TaskQueueWorkflows w : workflows) {
      workers
          .computeIfAbsent(w.taskQueue(), f::newWorker)
          .registerWorkflowImplementationTypes(
              options, w.implementations().toArray(Class<?>[]::new));
    }
    for (TaskQueueActivities a : activityImplementations) {
      workers
          .computeIfAbsent(a.taskQueue(), f::newWorker)
          .registerActivitiesImplementations(a.implementations().toArray());
    }
    return f;
  }

  private Set<String> workerQueues() {
    Set<String> queues = new java.util.TreeSet<>();
    workflows.forEach(w -> queues.add(w.taskQueue()));
    activityImplementations.forEach(a -> queues.add(a.taskQueue()));
    return queues;
  }

  /** Every {@code @ActivityInterface} the registered implementations implement. */
  static Class<?>[] activityInterfaces(List<TaskQueueActivities> registrations) {
    Set<Class<?>> interfaces = new LinkedHashSet<>();
    for (TaskQueueActivities a : registrations) {
      for (Object impl : a.implementations()) {
        collectActivityInterfaces(impl.getClass(), interfaces);
      }
    }
    return interfaces.toArray(Class<?>[]::new);
  }

  private static void collectActivityInterfaces(Class<?> type, Set<Class<?>> into) {
    if (type == null) {
      return;
    }
    for (Class<?> i : type.getInterfaces()) {
      if (i.isAnnotationPresent(ActivityInterface.class)) {
        into.add(i);
      }
      collectActivityInterfaces(i, into);
    }
    collectActivityInterfaces(type.getSuperclass(), into);
  }

  static WorkflowImplementationOptions workflowOptions(
      ActivitiesProperties activities, Class<?>... activityInterfaces) {
    return WorkflowImplementationOptions.newBuilder()
        .setDefaultActivityOptions(activities.defaultActivityOptions())
        .setActivityOptions(activities.perTypeActivityOptions(activityInterfaces))
        .build();
  }

  /** The task queues this worker polls. */
  public List<String> taskQueues() {
    return taskQueues;
  }

  /**
   * Starts polling. After a {@link #stop()} (Spring's {@code Lifecycle} allows stop then start, and
   * the chaos suite restarts the worker this way) a new factory takes the old one's place: the same
   * registrations against the same Temporal server, as a restarted process would have.
   */
  @Override
  public synchronized void start() {
    if (running) {
      return;
    }
    searchAttributes.ensureRegistered();
    if (factory.isShutdown()) {
      factory = newFactory();
    }
    factory.start();
    running = true;
    log.info("Temporal worker polling task queues {}", taskQueues);
  }

  @Override
  public synchronized void stop() {
    if (!running) {
      return;
    }
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
