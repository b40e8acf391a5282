package io.ephemera.worker.config;

import io.ephemera.sandbox.SandboxCluster;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * The cluster review apps run in: the sandbox (local profile only, refused elsewhere by {@link
 * EphemeraEnvironmentPostProcessor}) or the cluster of the kubeconfig / in-cluster service account.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnRole(Roles.WORKER)
class KubernetesConfiguration {
  private static final Logger log = LoggerFactory.getLogger(KubernetesConfiguration.class);

  @Configuration(proxyBeanMethods = false)
  @ConditionalOnProperty(name = "ephemera.kubernetes.sandbox", havingValue = "true")
  static class Sandbox {
    @Bean(destroyMethod = "close")
    SandboxCluster sandboxCluster(Environment env) {
      Duration rolloutDelay =
          env.getProperty(
              "ephemera.sandbox.kubernetes.rollout-delay", Duration.class, Duration.ofSeconds(2));
      Duration buildDelay =
          env.getProperty(
              "ephemera.sandbox.kubernetes.build-delay", Duration.class, Duration.ofSeconds(1));
      return SandboxCluster.start(rolloutDelay, buildDelay);
    }

    @Bean
    KubernetesClient kubernetesClient(SandboxCluster cluster) {
      return cluster.client();
    }
  }

  @Configuration(proxyBeanMethods = false)
  @ConditionalOnProperty(name = "ephemera.kubernetes.sandbox", havingValue = "false")
  static class Real {
    @Bean(destroyMethod = "close")
    KubernetesClient kubernetesClient() {
      Config config = Config.autoConfigure(null);
      log.info("Kubernetes: using the cluster at {}", config.getMasterUrl());
      return new KubernetesClientBuilder().withConfig(config).build();
    }
  }
}
