package io.ephemera.activity.gitlab;

/**
 * The GitLab environment {@code name} of a project, served at {@code externalUrl} (may be null).
 */
public record EnvironmentRequest(long projectId, String name, String externalUrl) {}
