package io.ephemera.activity.gitlab;

/** Delete the runners made for {@code workflowId} in the project, and their stored tokens. */
public record DeleteRunnerRequest(long projectId, String workflowId) {}
