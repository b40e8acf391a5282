package io.ephemera.worker.config;

import io.ephemera.activity.build.BuildProperties;
import io.ephemera.activity.build.KanikoBuilder;
import io.ephemera.activity.gitlab.GitLabProperties;
import io.ephemera.common.TaskQueues;
import io.ephemera.sandbox.SandboxCluster;
import io.ephemera.sandbox.SandboxGitLab;
import io.ephemera.sandbox.SandboxRegistry;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.URI;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Image builds of review apps: the Kaniko builder on the review-app queue, and in the local profile
 * the sandbox registry that the sandbox cluster's build Jobs "push" to.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnRole(Roles.WORKER)
@EnableConfigurationProperties(BuildProperties.class)
class BuildConfiguration {
  private static final Logger log = LoggerFactory.getLogger(BuildConfiguration.class);

  /** The local profile's stand-in registry, on the port {@code ephemera.review.registry} names. */
  @Bean(destroyMethod = "close")
  @ConditionalOnProperty(
      name = EphemeraEnvironmentPostProcessor.REGISTRY_SANDBOX,
      havingValue = "true")
  SandboxRegistry sandboxRegistry(Environment env, ObjectProvider<SandboxCluster> cluster) {
    int port =
        env.getRequiredProperty(
            EphemeraEnvironmentPostProcessor.REGISTRY_SANDBOX_PORT, Integer.class);
    SandboxRegistry registry = SandboxRegistry.start(port);
    SandboxCluster c = cluster.getIfAvailable();
    if (c != null) {
      c.pushBuildsTo(registry);
    }
    log.warn(
        "Registry: sandbox at {} (in memory; nothing can be pulled). Set ephemera.review.registry"
            + " to use a real registry.",
        registry.host());
    return registry;
  }

  @Bean
  KanikoBuilder kanikoBuilder(
      KubernetesClient kubernetes,
      BuildProperties properties,
      GitLabProperties gitlab,
      ObjectProvider<SandboxGitLab> sandboxGitLab,
      ObjectProvider<SandboxRegistry> sandboxRegistry) {
    SandboxGitLab gitlabStandIn = sandboxGitLab.getIfAvailable();
    URI gitlabUrl =
        gitlabStandIn != null
            ? URI.create(gitlabStandIn.url())
            : gitlab.url() == null ? null : URI.create(gitlab.url());
    BuildProperties effective = properties.withDefaultGitUrl(gitlabUrl);
    if (sandboxRegistry.getIfAvailable() != null) {
      // The sandbox registry speaks plain HTTP on loopback.
      effective = effective.withRegistryScheme("http");
    }
    log.info(
        "Image builds: Kaniko Jobs running {}, cloning from {}",
        effective.executorImage(),
        effective.context().gitUrl());
    return new KanikoBuilder(kubernetes, effective);
  }

  @Bean
  TaskQueueActivities buildActivities(KanikoBuilder builder) {
    return TaskQueueActivities.of(TaskQueues.REVIEW_APPS, builder);
  }
}
