package io.ephemera.activity.gitlab;

/**
 * A registered runner: GitLab's id, and where its token is kept ({@code tokenRef}, e.g. a
 * Kubernetes Secret or SSM parameter name) — a reference, never the token.
 */
public record RegisteredRunner(long runnerId, String tokenRef) {}
