package io.ephemera.activity.gitlab;

import io.ephemera.runner.JobTagsLookup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * A job's tags from the Jobs API ({@code GET /projects/:id/jobs/:job_id}, {@code tag_list}), for
 * the webhook intake: Job Hooks do not reliably carry them. It runs on the webhook's request
 * thread, so it waits {@code ephemera.gitlab.job-tags-timeout} at most and never throws: on any
 * error it logs a warning naming the project and job and answers no tags, and the intake routes by
 * the payload's tags alone.
 */
public final class GitLabJobTagsLookup implements JobTagsLookup {
  private static final Logger log = LoggerFactory.getLogger(GitLabJobTagsLookup.class);

  private final GitLabClient gitlab;
  private final Duration timeout;

  public GitLabJobTagsLookup(GitLabClient gitlab, GitLabProperties props) {
    this(gitlab, props.jobTagsTimeout());
  }

  public GitLabJobTagsLookup(GitLabClient gitlab, Duration timeout) {
    this.gitlab = Objects.requireNonNull(gitlab, "gitlab");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
  }

  @Override
  public List<String> tags(long projectId, long jobId) {
    try {
      JsonNode job =
          gitlab.get("/projects/" + projectId + "/jobs/" + jobId, Map.of(), timeout).body();
      List<String> result = new ArrayList<>();
      for (JsonNode tag : job.path("tag_list")) {
        String t = tag.asString(null);
        if (t != null && !t.isBlank()) {
          result.add(t);
        }
      }
      return List.copyOf(result);
    } catch (RuntimeException e) {
      log.warn(
          "Could not read the tags of job {} in project {} from GitLab; routing by the webhook's"
              + " tags only: {}",
          jobId,
          projectId,
          e.getMessage());
      return List.of();
    }
  }
}
