package io.ephemera.api;

import io.ephemera.api.environments.ApiProperties;
import io.ephemera.api.webhook.WebhookProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/**
 * Everything the {@code api} role serves: the GitLab webhook receiver ({@code /webhooks/gitlab}),
 * the REST API ({@code /api/v1/**}) and their problem+json errors.
 *
 * <p>The importing application provides the {@link io.temporal.client.WorkflowClient}; this module
 * never starts a worker and keeps no state of its own, so any number of replicas may run. For
 * runners it also provides {@link io.ephemera.runner.RouteLookup} and {@link
 * io.ephemera.runner.JobTagsLookup}; both are optional here (looked up per delivery), so an
 * application without runners configured still serves review apps.
 */
@Configuration(proxyBeanMethods = false)
@ComponentScan
@EnableConfigurationProperties({WebhookProperties.class, ApiProperties.class})
public class ApiConfiguration {}
