package io.ephemera.activity.credentials;

/**
 * Credentials for {@code purpose} of the workflow {@code workflowId}, written into the Secret
 * {@code secretNamespace/secretName}, which is labelled with the workflow id and managed-by.
 */
public record CredentialRequest(
    String workflowId,
    long projectId,
    String projectPath,
    CredentialPurpose purpose,
    String secretNamespace,
    String secretName) {}
