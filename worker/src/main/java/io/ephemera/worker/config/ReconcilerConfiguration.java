package io.ephemera.worker.config;

import io.ephemera.activity.build.BuildActivities;
import io.ephemera.activity.build.BuildProperties;
import io.ephemera.activity.compute.ComputeActivitiesImpl;
import io.ephemera.activity.compute.Ec2RunnerClients;
import io.ephemera.activity.compute.Ec2RunnerProperties;
import io.ephemera.activity.compute.RunnerPodProperties;
import io.ephemera.activity.credentials.CredentialActivities;
import io.ephemera.activity.credentials.LeaseIndex;
import io.ephemera.activity.gitlab.GitLabClient;
import io.ephemera.activity.gitlab.GitLabListings;
import io.ephemera.activity.gitlab.GitLabRunnerActivitiesImpl;
import io.ephemera.activity.kubernetes.KubernetesActivitiesImpl;
import io.ephemera.activity.reconciler.Ec2InstanceSource;
import io.ephemera.activity.reconciler.GitLabRunnerSource;
import io.ephemera.activity.reconciler.KubernetesSources;
import io.ephemera.activity.reconciler.LeaseSource;
import io.ephemera.activity.reconciler.ManagedSource;
import io.ephemera.activity.reconciler.ReconcilerActivitiesImpl;
import io.ephemera.activity.reconciler.ReconcilerMetrics;
import io.ephemera.activity.reconciler.ReconcilerProperties;
import io.ephemera.activity.reconciler.Repairs;
import io.ephemera.activity.reconciler.ResourceKinds;
import io.ephemera.activity.reconciler.TemporalOwners;
import io.ephemera.common.TaskQueues;
import io.ephemera.reconciler.ReconcilerWorkflowImpl;
import io.ephemera.runner.RouteLookup;
import io.ephemera.sandbox.SandboxEc2;
import io.ephemera.sandbox.SandboxGitLab;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.temporal.client.WorkflowClient;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.services.ec2.Ec2Client;

/**
 * The reconciler: its workflow and listing activities on {@link TaskQueues#RECONCILER}, together
 * with the teardown activities it reaps with (the same implementations the review-app and runner
 * queues run), and the start-up that keeps it running.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnRole(Roles.WORKER)
@EnableConfigurationProperties(ReconcilerProperties.class)
class ReconcilerConfiguration {

  /**
   * A client of the same cluster without Fabric8's request retries: a listing must report an outage
   * in this pass, not wait it out for a minute and a half; the next pass is its retry.
   */
  @Bean(destroyMethod = "close")
  ReconcilerKubernetes reconcilerKubernetes(KubernetesClient kubernetes) {
    return new ReconcilerKubernetes(
        new KubernetesClientBuilder()
            .withConfig(
                new ConfigBuilder(kubernetes.getConfiguration())
                    .withRequestRetryBackoffLimit(0)
                    .build())
            .build());
  }

  /** Holder, so the application keeps exactly one {@link KubernetesClient} bean. */
  record ReconcilerKubernetes(KubernetesClient client) implements AutoCloseable {
    @Override
    public void close() {
      client.close();
    }
  }

  /** The EC2 client the instance listing uses, or null when EC2 runners are not configured. */
  @Bean(destroyMethod = "close")
  ReconcilerEc2 reconcilerEc2(Ec2RunnerProperties props, ObjectProvider<SandboxEc2> sandbox) {
    SandboxEc2 standIn = sandbox.getIfAvailable();
    if (standIn != null) {
      Ec2RunnerProperties local = props.withEndpoint(SandboxEc2.REGION, standIn.endpoint());
      return new ReconcilerEc2(Ec2RunnerClients.ec2(local, SandboxEc2.credentials()));
    }
    if (props.region() == null && props.endpointOverride() == null) {
      return new ReconcilerEc2(null);
    }
    return new ReconcilerEc2(
        Ec2RunnerClients.ec2(props, DefaultCredentialsProvider.builder().build()));
  }

  /** Holder, so a worker without EC2 has a bean too. */
  record ReconcilerEc2(Ec2Client client) implements AutoCloseable {
    @Override
    public void close() {
      if (client != null) {
        client.close();
      }
    }
  }

  @Bean
  ReconcilerMetrics reconcilerMetrics(ObjectProvider<MeterRegistry> registry) {
    return new ReconcilerMetrics(registry.getIfAvailable(SimpleMeterRegistry::new));
  }

  @Bean
  ReconcilerActivitiesImpl reconcilerActivities(
      ReconcilerProperties properties,
      ReconcilerKubernetes reconcilerKubernetes,
      RunnerPodProperties pods,
      ReconcilerEc2 reconcilerEc2,
      GitLabClient gitlab,
      LeaseIndex leases,
      BuildProperties builds,
      ObjectProvider<RouteLookup> routes,
      WorkflowClient client,
      ReconcilerMetrics metrics,
      ObjectProvider<SandboxGitLab> sandboxGitLab,
      Environment env) {
    List<ManagedSource> sources = new ArrayList<>();
    Map<String, String> notConfigured = new LinkedHashMap<>();
    sources.add(KubernetesSources.namespaces(reconcilerKubernetes.client()));
    sources.add(KubernetesSources.runnerPods(reconcilerKubernetes.client(), pods.namespace()));
    // Listed even when ephemera.build.enabled=false: builds started before it was turned off may
    // have been left behind.
    sources.add(KubernetesSources.builds(reconcilerKubernetes.client(), builds.namespace()));
    if (reconcilerEc2.client() != null) {
      sources.add(new Ec2InstanceSource(reconcilerEc2.client()));
    } else {
      notConfigured.put(
          ResourceKinds.INSTANCE, "EC2 runners are not configured (ephemera.runners.ec2.region)");
    }
    GitLabListings listings = new GitLabListings(gitlab);
    sources.add(new GitLabRunnerSource(listings));
    // The index VaultCredentialActivities records every lease in (VaultConfiguration): in Vault's
    // KV v2, or the sandbox Vault's in the local profile.
    sources.add(new LeaseSource(leases));
    Repairs repairs =
        new Repairs(
            listings,
            client,
            routes::getIfAvailable,
            () -> {
              // The sandbox's seeded projects are served too, so a seed file shows repair at once.
              java.util.Set<Long> projects = new java.util.TreeSet<>(properties.projects());
              SandboxGitLab standIn = sandboxGitLab.getIfAvailable();
              if (standIn != null) {
                projects.addAll(standIn.projectIds());
              }
              return projects;
            },
            env.getProperty("ephemera.gitlab.allow-forks", Boolean.class, false),
            properties.ownerTimeout());
    return new ReconcilerActivitiesImpl(
        properties,
        sources,
        notConfigured,
        new TemporalOwners(client, properties.ownerTimeout()),
        repairs,
        metrics,
        Clock.systemUTC());
  }

  @Bean
  TaskQueueWorkflows reconcilerWorkflows() {
    return TaskQueueWorkflows.of(TaskQueues.RECONCILER, ReconcilerWorkflowImpl.class);
  }

  /**
   * The reconciler's queue runs its own activities and the teardown activities it reaps with:
   * required, since a reap scheduled on a queue where nothing runs it would wait out the reap
   * timeout every pass.
   */
  @Bean
  TaskQueueActivities reconcilerQueueActivities(
      ReconcilerActivitiesImpl reconciler,
      KubernetesActivitiesImpl kubernetes,
      ComputeActivitiesImpl compute,
      GitLabRunnerActivitiesImpl gitlabRunners,
      CredentialActivities credentials,
      BuildActivities builds) {
    return new TaskQueueActivities(
        TaskQueues.RECONCILER,
        List.of(reconciler, kubernetes, compute, gitlabRunners, credentials, builds));
  }

  @Bean
  ReconcilerStarter reconcilerStarter(WorkflowClient client, ReconcilerProperties properties) {
    return new ReconcilerStarter(client, properties);
  }
}
