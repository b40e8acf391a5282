package io.ephemera.runner;

import java.util.List;

/**
 * The job's tags from the GitLab Jobs API ({@code GET /projects/:id/jobs/:job_id}, {@code
 * tag_list}), for Job Hooks that do not carry them. Plain Java; implemented in {@code activities}.
 */
public interface JobTagsLookup {
  List<String> tags(long projectId, long jobId);
}
