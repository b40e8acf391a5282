package io.ephemera.activity.kubernetes;

/** What to ensure for a review app's namespace. Quotas and limits come from configuration. */
public record NamespaceSpec(String namespace, String workflowId, long projectId, long mrIid) {}
