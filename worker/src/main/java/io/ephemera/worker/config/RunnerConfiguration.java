package io.ephemera.worker.config;

import io.ephemera.activity.compute.ComputeActivitiesImpl;
import io.ephemera.activity.compute.Ec2RunnerClients;
import io.ephemera.activity.compute.Ec2RunnerProperties;
import io.ephemera.activity.compute.Ec2Runners;
import io.ephemera.activity.compute.RunnerPodProperties;
import io.ephemera.activity.compute.RunnerPods;
import io.ephemera.activity.config.ConfigActivitiesImpl;
import io.ephemera.activity.config.RunnerProperties;
import io.ephemera.activity.gitlab.GitLabClient;
import io.ephemera.activity.gitlab.GitLabProperties;
import io.ephemera.activity.gitlab.GitLabRunnerActivitiesImpl;
import io.ephemera.activity.gitlab.KubernetesSecretTokenStore;
import io.ephemera.activity.gitlab.RunnerTokenStore;
import io.ephemera.activity.slots.RunnerSlotActivitiesImpl;
import io.ephemera.common.TaskQueues;
import io.ephemera.runner.RunnerSlotsWorkflowImpl;
import io.ephemera.runner.RunnerWorkflowImpl;
import io.ephemera.sandbox.SandboxEc2;
import io.ephemera.sandbox.SandboxGitLab;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.temporal.client.WorkflowClient;
import java.net.URI;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;

/** The worker's side of single-use runners: registration, compute, the slot guard. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnRole(Roles.WORKER)
@EnableConfigurationProperties({RunnerPodProperties.class, Ec2RunnerProperties.class})
class RunnerConfiguration {
  private static final Logger log = LoggerFactory.getLogger(RunnerConfiguration.class);

  @Bean
  RunnerTokenStore runnerTokenStore(KubernetesClient kubernetes, RunnerPodProperties pods) {
    return new KubernetesSecretTokenStore(kubernetes, pods.namespace());
  }

  @Bean
  GitLabRunnerActivitiesImpl gitLabRunnerActivities(GitLabClient gitlab, RunnerTokenStore tokens) {
    return new GitLabRunnerActivitiesImpl(gitlab, tokens);
  }

  @Bean
  TaskQueueWorkflows runnerWorkflows() {
    return TaskQueueWorkflows.of(
        TaskQueues.RUNNERS, RunnerWorkflowImpl.class, RunnerSlotsWorkflowImpl.class);
  }

  @Bean
  TaskQueueActivities runnerActivities(
      GitLabRunnerActivitiesImpl gitlabRunners,
      ComputeActivitiesImpl compute,
      ConfigActivitiesImpl config,
      RunnerSlotActivitiesImpl slots) {
    return TaskQueueActivities.of(TaskQueues.RUNNERS, gitlabRunners, compute, config, slots);
  }

  @Bean
  RunnerSlotActivitiesImpl runnerSlotActivities(WorkflowClient client) {
    return new RunnerSlotActivitiesImpl(client);
  }

  /** The stand-in EC2 and SSM of the local profile, when no EC2 region is configured. */
  @Bean(destroyMethod = "close")
  @ConditionalOnProperty(name = EphemeraEnvironmentPostProcessor.EC2_SANDBOX, havingValue = "true")
  SandboxEc2 sandboxEc2(Environment env) {
    Duration stateDelay =
        env.getProperty("ephemera.sandbox.ec2.state-delay", Duration.class, Duration.ofSeconds(1));
    SandboxEc2 sandbox = SandboxEc2.start(stateDelay);
    log.warn(
        "EC2: sandbox at {} (in memory; instances never boot). Set ephemera.runners.ec2.region to"
            + " use AWS.",
        sandbox.endpoint());
    return sandbox;
  }

  @Bean
  ComputeActivitiesImpl computeActivities(
      KubernetesClient kubernetes,
      RunnerPodProperties podProperties,
      Ec2RunnerProperties ec2Properties,
      RunnerTokenStore tokens,
      RunnerProperties runners,
      GitLabProperties gitlab,
      ObjectProvider<SandboxGitLab> sandboxGitLab,
      ObjectProvider<SandboxEc2> sandboxEc2) {
    SandboxGitLab gitlabStandIn = sandboxGitLab.getIfAvailable();
    URI gitlabUrl =
        gitlabStandIn != null
            ? URI.create(gitlabStandIn.url())
            : gitlab.url() == null ? null : URI.create(gitlab.url());
    RunnerPods pods = new RunnerPods(kubernetes, podProperties, tokens, runners, gitlabUrl);
    return new ComputeActivitiesImpl(
        pods, ec2Runners(ec2Properties, tokens, runners, gitlabUrl, sandboxEc2.getIfAvailable()));
  }

  /**
   * EC2 runners exist when a region or endpoint is configured, or the sandbox stands in; otherwise
   * an EC2 route fails for good with a message saying EC2 is not configured.
   */
  private static Ec2Runners ec2Runners(
      Ec2RunnerProperties props,
      RunnerTokenStore tokens,
      RunnerProperties runners,
      URI gitlabUrl,
      SandboxEc2 sandbox) {
    if (sandbox != null) {
      Ec2RunnerProperties local = props.withEndpoint(SandboxEc2.REGION, sandbox.endpoint());
      return new Ec2Runners(
          Ec2RunnerClients.ec2(local, SandboxEc2.credentials()),
          Ec2RunnerClients.ssm(local, SandboxEc2.credentials()),
          local,
          tokens,
          runners,
          gitlabUrl);
    }
    if (props.region() == null && props.endpointOverride() == null) {
      log.info("EC2 runners are not configured (ephemera.runners.ec2.region unset)");
      return null;
    }
    DefaultCredentialsProvider credentials = DefaultCredentialsProvider.builder().build();
    return new Ec2Runners(
        Ec2RunnerClients.ec2(props, credentials),
        Ec2RunnerClients.ssm(props, credentials),
        props,
        tokens,
        runners,
        gitlabUrl);
  }
}
