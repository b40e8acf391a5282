package io.ephemera.worker.config;

import io.ephemera.activity.config.ReviewProperties;
import io.ephemera.activity.credentials.LeaseIndex;
import io.ephemera.activity.kubernetes.DeployTokenClients;
import io.ephemera.activity.kubernetes.NamespaceClients;
import io.ephemera.activity.vault.VaultCredentialActivities;
import io.ephemera.activity.vault.VaultLeaseIndex;
import io.ephemera.activity.vault.VaultProperties;
import io.ephemera.activity.vault.VaultProperties.Auth;
import io.ephemera.activity.vault.VaultProperties.BuildSources;
import io.ephemera.activity.vault.VaultProperties.DeploySources;
import io.ephemera.activity.vault.VaultProperties.Engine;
import io.ephemera.activity.vault.VaultProperties.Source;
import io.ephemera.activity.vault.VaultSession;
import io.ephemera.common.TaskQueues;
import io.ephemera.sandbox.SandboxVault;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Credentials from Vault: the session (the real Vault at {@code ephemera.vault.address}, or in the
 * {@code local} profile without one the sandbox Vault), the lease index, and the credential
 * activities on the review-app task queue. Outside {@code local} a worker without a Vault address
 * does not start ({@link EphemeraEnvironmentPostProcessor}).
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnRole(Roles.WORKER)
@EnableConfigurationProperties(VaultProperties.class)
class VaultConfiguration {
  private static final Logger log = LoggerFactory.getLogger(VaultConfiguration.class);

  /** Sandbox paths: one source of each kind and engine, so a local deploy exercises them all. */
  static final String SANDBOX_REGISTRY_PUSH = "secret/ephemera/registry-push";

  static final String SANDBOX_BUILD_CACHE = "aws/creds/ephemera-build-cache";
  static final String SANDBOX_SOURCE_READ = "gitlab/creds/project-{projectId}";
  static final String SANDBOX_REGISTRY_PULL = "registry/creds/pull";

  @Bean(destroyMethod = "close")
  @ConditionalOnProperty(
      name = EphemeraEnvironmentPostProcessor.VAULT_SANDBOX,
      havingValue = "true")
  SandboxVault sandboxVault() {
    SandboxVault sandbox =
        SandboxVault.start()
            .putSecret(
                SANDBOX_REGISTRY_PUSH,
                Map.of(
                    "username", "push-" + SandboxVault.MARKER,
                    "password", SandboxVault.MARKER + "-registry-push"))
            // A build takes minutes; its credentials are revoked right after it anyway.
            .awsRole("aws", "ephemera-build-cache", Duration.ofMinutes(30))
            .dynamicRole("gitlab", "*", Duration.ofMinutes(30))
            // Pods pull again when they restart, so the pull credential lives as long as a review
            // app may (auto-stop 3 days, extendable), and is revoked at teardown.
            .dynamicRole("registry", "pull", Duration.ofDays(30));
    log.warn(
        "Vault: SANDBOX at {} (in memory; every issued value contains '{}'). Set"
            + " ephemera.vault.address and ephemera.vault.auth.* to use a real Vault.",
        sandbox.url(),
        SandboxVault.MARKER);
    return sandbox;
  }

  @Bean(destroyMethod = "close")
  VaultSession vaultSession(VaultProperties properties, ObjectProvider<SandboxVault> sandbox) {
    SandboxVault standIn = sandbox.getIfAvailable();
    if (standIn == null) {
      return new VaultSession(properties);
    }
    if (properties.hasSources()) {
      log.warn("Vault: the configured credential sources are ignored by the sandbox Vault");
    }
    VaultProperties local =
        properties
            .withEndpoint(
                standIn.url(),
                Auth.approle(SandboxVault.APPROLE_ROLE_ID, standIn.approleSecretId()))
            .withSources(
                new BuildSources(
                    new Source(SANDBOX_REGISTRY_PUSH, Engine.KV2, null, null),
                    new Source(SANDBOX_BUILD_CACHE, Engine.DYNAMIC, null, Duration.ofMinutes(15)),
                    new Source(SANDBOX_SOURCE_READ, Engine.DYNAMIC, null, null)),
                new DeploySources(
                    new Source(SANDBOX_REGISTRY_PULL, Engine.DYNAMIC, null, null), null));
    return new VaultSession(local);
  }

  @Bean
  LeaseIndex leaseIndex(VaultSession vault) {
    return new VaultLeaseIndex(vault, vault.properties().leaseIndex());
  }

  @Bean
  VaultCredentialActivities credentialActivities(
      VaultSession vault,
      LeaseIndex leaseIndex,
      KubernetesClient kubernetes,
      ReviewProperties review) {
    return new VaultCredentialActivities(vault, leaseIndex, kubernetes, review.registry());
  }

  /**
   * The client that writes review apps inside their namespaces: on each deploy's own Kubernetes
   * token when Vault's Kubernetes secrets engine issues one (ephemera.vault.deploy.kubernetes),
   * else the worker's own.
   */
  @Bean(destroyMethod = "close")
  NamespaceClients workloadClients(KubernetesClient kubernetes, VaultSession vault) {
    VaultProperties p = vault.properties();
    if (!p.kubernetesTokenForAnyProject()) {
      return NamespaceClients.worker(kubernetes);
    }
    log.info(
        "Kubernetes: review apps are written with each deploy's token from Vault's Kubernetes"
            + " secrets engine ({})",
        p.kubernetesTokenForEveryProject() ? "every project" : "the projects configured for it");
    return new DeployTokenClients(kubernetes, p.kubernetesTokenForEveryProject());
  }

  @Bean
  TaskQueueActivities credentialTaskQueueActivities(VaultCredentialActivities credentials) {
    return TaskQueueActivities.of(TaskQueues.REVIEW_APPS, credentials);
  }
}
