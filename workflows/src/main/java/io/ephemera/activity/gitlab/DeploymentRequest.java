package io.ephemera.activity.gitlab;

/**
 * A deployment of {@code sha} (on branch {@code ref}) to environment {@code environment}, with
 * {@code status} one of GitLab's deployment statuses ({@code running}, {@code success}, {@code
 * failed}, {@code canceled}). {@code deploymentId} null creates one; set, updates its status.
 */
public record DeploymentRequest(
    long projectId, String environment, String sha, String ref, String status, Long deploymentId) {}
