package io.ephemera.activity.build;

/**
 * One image build.
 *
 * @param namespace where the build runs, and where {@code credentialsSecret} lives
 * @param name the build's name (its Job's name), unique per workflow and commit
 * @param destination the image reference to push, e.g. {@code registry/group/app:sha}
 * @param credentialsSecret the Secret holding the keys of {@code
 *     io.ephemera.activity.credentials.SecretKeys}
 */
public record BuildRequest(
    String workflowId,
    long projectId,
    String projectPath,
    String sha,
    String namespace,
    String name,
    String destination,
    String credentialsSecret) {}
