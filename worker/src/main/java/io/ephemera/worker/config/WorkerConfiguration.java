package io.ephemera.worker.config;

import io.ephemera.activity.compute.ComputeActivitiesImpl;
import io.ephemera.activity.config.ConfigActivitiesImpl;
import io.ephemera.activity.config.ReviewProperties;
import io.ephemera.activity.config.RunnerProperties;
import io.ephemera.activity.gitlab.GitLabClient;
import io.ephemera.activity.gitlab.GitLabFeedbackActivitiesImpl;
import io.ephemera.activity.gitlab.GitLabRunnerActivitiesImpl;
import io.ephemera.activity.kubernetes.KubernetesActivitiesImpl;
import io.ephemera.activity.kubernetes.KubernetesProperties;
import io.ephemera.activity.slots.RunnerSlotActivitiesImpl;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.temporal.client.WorkflowClient;
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
  KubernetesProperties.class
})
class WorkerConfiguration {

  @Bean
  KubernetesActivitiesImpl kubernetesActivities(
      KubernetesClient client, KubernetesProperties properties) {
    return new KubernetesActivitiesImpl(client, properties);
  }

  @Bean
  ConfigActivitiesImpl configActivities(
      ReviewProperties review, KubernetesProperties kubernetes, RunnerProperties runners) {
    return new ConfigActivitiesImpl(review, kubernetes, runners);
  }

  @Bean
  EphemeraWorker ephemeraWorker(
      WorkflowClient client,
      WorkerProperties properties,
      ActivitiesProperties activities,
      KubernetesActivitiesImpl kubernetes,
      ConfigActivitiesImpl config,
      GitLabRunnerActivitiesImpl gitlabRunners,
      ComputeActivitiesImpl compute,
      RunnerSlotActivitiesImpl slots,
      GitLabClient gitlab) {
    return new EphemeraWorker(
        client,
        properties,
        activities,
        kubernetes,
        config,
        gitlabRunners,
        compute,
        slots,
        new GitLabFeedbackActivitiesImpl(gitlab),
        new SearchAttributeRegistrar(client));
  }
}
