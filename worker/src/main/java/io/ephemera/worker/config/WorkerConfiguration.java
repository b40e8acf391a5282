package io.ephemera.worker.config;

import io.ephemera.activity.build.BuildProperties;
import io.ephemera.activity.config.ConfigActivitiesImpl;
import io.ephemera.activity.config.ReviewProperties;
import io.ephemera.activity.config.RunnerProperties;
import io.ephemera.activity.gitlab.GitLabClient;
import io.ephemera.activity.gitlab.GitLabFeedbackActivitiesImpl;
import io.ephemera.activity.kubernetes.KubernetesActivitiesImpl;
import io.ephemera.activity.kubernetes.KubernetesProperties;
import io.ephemera.activity.kubernetes.NamespaceClients;
import io.ephemera.common.TaskQueues;
import io.ephemera.reviewapp.ReviewAppWorkflowImpl;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.temporal.client.WorkflowClient;
import java.util.List;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The worker role: activity beans and the Temporal worker that runs them. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnRole(Roles.WORKER)
@EnableConfigurationProperties({
  ActivitiesProperties.class,
  WorkerProperties.class,
  ReviewProperties.class,
  RunnerProperties.class,
  KubernetesProperties.class,
  BuildProperties.class
})
class WorkerConfiguration {

  @Bean
  KubernetesActivitiesImpl kubernetesActivities(
      KubernetesClient client, NamespaceClients workloadClients, KubernetesProperties properties) {
    return new KubernetesActivitiesImpl(client, workloadClients, properties);
  }

  @Bean
  ConfigActivitiesImpl configActivities(
      ReviewProperties review,
      KubernetesProperties kubernetes,
      RunnerProperties runners,
      BuildProperties build) {
    return new ConfigActivitiesImpl(
        review, kubernetes, runners, build.enabled(), build.namespace());
  }

  @Bean
  TaskQueueWorkflows reviewAppWorkflows() {
    return TaskQueueWorkflows.of(TaskQueues.REVIEW_APPS, ReviewAppWorkflowImpl.class);
  }

  @Bean
  TaskQueueActivities reviewAppActivities(
      KubernetesActivitiesImpl kubernetes, ConfigActivitiesImpl config, GitLabClient gitlab) {
    return TaskQueueActivities.of(
        TaskQueues.REVIEW_APPS, kubernetes, config, new GitLabFeedbackActivitiesImpl(gitlab));
  }

  @Bean
  EphemeraWorker ephemeraWorker(
      WorkflowClient client,
      WorkerProperties properties,
      ActivitiesProperties activities,
      List<TaskQueueWorkflows> workflows,
      List<TaskQueueActivities> activityImplementations) {
    return new EphemeraWorker(
        client,
        properties,
        activities,
        workflows,
        activityImplementations,
        new SearchAttributeRegistrar(client));
  }
}
