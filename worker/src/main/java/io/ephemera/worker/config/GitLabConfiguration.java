package io.ephemera.worker.config;

import io.ephemera.activity.gitlab.GitLabClient;
import io.ephemera.activity.gitlab.GitLabJobTagsLookup;
import io.ephemera.activity.gitlab.GitLabProperties;
import io.ephemera.activity.routing.DynamoDbRouteSource;
import io.ephemera.activity.routing.RoutingLookup;
import io.ephemera.activity.routing.RoutingProperties;
import io.ephemera.runner.JobTagsLookup;
import io.ephemera.runner.RouteLookup;
import io.ephemera.sandbox.SandboxGitLab;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * GitLab's API and the runner routing table. Both roles need them: the api routes Job Hooks with
 * the routing table and the Jobs API, the worker registers runners.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties({GitLabProperties.class, RoutingProperties.class})
class GitLabConfiguration {
  private static final Logger log = LoggerFactory.getLogger(GitLabConfiguration.class);

  /** The local profile's stand-in GitLab, when no {@code ephemera.gitlab.url} is configured. */
  @Bean(destroyMethod = "close")
  @ConditionalOnProperty(
      name = EphemeraEnvironmentPostProcessor.GITLAB_SANDBOX,
      havingValue = "true")
  SandboxGitLab sandboxGitLab(org.springframework.core.env.Environment env) {
    SandboxGitLab sandbox = SandboxGitLab.start();
    String seed = env.getProperty("ephemera.sandbox.gitlab.seed");
    if (seed != null && !seed.isBlank()) {
      // Open merge requests and pending jobs no webhook announced: the reconciler's repair shows.
      sandbox.seed(java.nio.file.Path.of(seed.trim()));
    }
    log.warn(
        "GitLab: sandbox at {} (in memory; no job ever runs unless a Job Hook says so). Set"
            + " ephemera.gitlab.url and ephemera.gitlab.token to use a real GitLab.",
        sandbox.url());
    return sandbox;
  }

  @Bean
  GitLabClient gitLabClient(GitLabProperties properties, ObjectProvider<SandboxGitLab> sandbox) {
    SandboxGitLab standIn = sandbox.getIfAvailable();
    // The sandbox checks that a token is sent, not which one.
    return new GitLabClient(
        standIn != null ? GitLabProperties.of(standIn.url(), "sandbox") : properties);
  }

  @Bean
  JobTagsLookup jobTagsLookup(GitLabClient client, GitLabProperties properties) {
    return new GitLabJobTagsLookup(client, properties);
  }

  @Configuration(proxyBeanMethods = false)
  @ConditionalOnProperty(
      name = "ephemera.runners.routing.source",
      havingValue = "yaml",
      matchIfMissing = true)
  static class YamlRouting {
    @Bean
    RouteLookup routeLookup(RoutingProperties properties) {
      return RoutingLookup.fromYaml(properties);
    }
  }

  @Configuration(proxyBeanMethods = false)
  @ConditionalOnProperty(name = "ephemera.runners.routing.source", havingValue = "dynamodb")
  static class DynamoDbRouting {
    @Bean(destroyMethod = "close")
    DynamoDbClient routingDynamoDbClient(RoutingProperties properties) {
      return DynamoDbRouteSource.client(properties.dynamodb());
    }

    @Bean
    RouteLookup routeLookup(RoutingProperties properties, DynamoDbClient routingDynamoDbClient) {
      return RoutingLookup.fromDynamoDb(properties, routingDynamoDbClient);
    }
  }
}
