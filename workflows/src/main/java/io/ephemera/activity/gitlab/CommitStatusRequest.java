package io.ephemera.activity.gitlab;

/**
 * Commit status {@code ephemera/review-app} of {@code sha}: {@code state} one of {@code pending},
 * {@code running}, {@code success}, {@code failed}, {@code canceled}; {@code targetUrl} the
 * environment's URL (may be null).
 */
public record CommitStatusRequest(
    long projectId, String sha, String ref, String state, String targetUrl, String description) {}
