package io.ephemera.api.webhook;

import static io.ephemera.api.webhook.JsonFields.missing;
import static io.ephemera.api.webhook.JsonFields.object;
import static io.ephemera.api.webhook.JsonFields.positiveId;
import static io.ephemera.api.webhook.JsonFields.string;

import io.ephemera.api.error.ApiException;
import io.ephemera.runner.JobEvent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * The fields of a GitLab Job Hook ({@code object_kind: build}) that runner routing needs, checked.
 *
 * <p>Two look-alikes are deliberately not read: {@code tag} says whether the pipeline's ref is a
 * Git tag, and {@code runner.tags} are the tags of the runner that took the job, not the job's own.
 * The documented payload carries no list of the job's tags at all; {@code tag_list} (the Jobs API's
 * name) or {@code build_tags} is used when a sender adds one, otherwise the router asks the Jobs
 * API.
 *
 * @param projectId {@code project_id}
 * @param projectPath {@code project.path_with_namespace}, else {@code project_name}; data only
 * @param jobId {@code build_id}
 * @param jobName {@code build_name}, or null
 * @param status {@code build_status}, lower case
 * @param runnerId {@code runner.id}, null before a runner took the job
 * @param runnerDescription {@code runner.description}; names the owning workflow for our runners
 * @param tags the job's tags from the payload, or null when the payload has none
 */
record JobHookEvent(
    long projectId,
    String projectPath,
    long jobId,
    String jobName,
    String status,
    Long runnerId,
    String runnerDescription,
    List<String> tags) {

  static final String KIND = "build";

  static final String PENDING = "pending";
  static final String RUNNING = "running";

  /**
   * Every job status GitLab has (its {@code Ci::HasStatus}). Only some are acted on; the others are
   * acknowledged, so that GitLab never sees a 4xx for a status it really sends.
   */
  static final Set<String> KNOWN_STATUSES =
      Set.of(
          "created",
          "waiting_for_resource",
          "preparing",
          "pending",
          "running",
          "success",
          "failed",
          "canceling",
          "canceled",
          "skipped",
          "manual",
          "scheduled");

  /** GitLab's limit for job names. */
  static final int MAX_JOB_NAME = 255;

  /** Far beyond what GitLab allows; guards history size against absurd input. */
  static final int MAX_TAGS = 100;

  static final int MAX_TAG = 255;
  static final int MAX_DESCRIPTION = 4096;

  /** The payload fields that may carry the job's own tags, in the order they are looked for. */
  static final List<String> TAG_FIELDS = List.of("tag_list", "build_tags");

  /**
   * A status GitLab might add later still looks like this; anything else is not a status. A
   * well-formed unknown status is acknowledged and ignored rather than refused, so a GitLab upgrade
   * cannot get the webhook disabled for failing.
   */
  private static final Pattern STATUS = Pattern.compile("[a-z_]{1,64}");

  boolean isPending() {
    return PENDING.equals(status);
  }

  boolean isRunning() {
    return RUNNING.equals(status);
  }

  /** The statuses {@link JobEvent#finished()} treats as the end of a job. */
  boolean isFinished() {
    return toJobEvent().finished();
  }

  JobEvent toJobEvent() {
    return new JobEvent(jobId, status, runnerId);
  }

  /** Checks the fields that starting a runner needs and that other statuses can do without. */
  JobHookEvent requireStartable() {
    if (jobName == null || jobName.isBlank()) {
      throw missing("build_name");
    }
    if (projectPath == null) {
      throw ApiException.invalidField(
          "project.path_with_namespace",
          "project.path_with_namespace (or project_name) is required.");
    }
    return this;
  }

  static JobHookEvent parse(JsonNode root) {
    long projectId = positiveId(root, null, "project_id", true);
    long jobId = positiveId(root, null, "build_id", true);
    String status = status(root);
    String jobName = string(root, null, "build_name", MAX_JOB_NAME);
    JsonNode project = object(root, null, "project", false);
    String path =
        project == null
            ? null
            : nonBlank(
                string(project, "project", "path_with_namespace", MergeRequestEvent.MAX_PATH),
                "project.path_with_namespace");
    if (path == null) {
      path =
          nonBlank(string(root, null, "project_name", MergeRequestEvent.MAX_PATH), "project_name");
    }
    JsonNode runner = object(root, null, "runner", false);
    Long runnerId = runner == null ? null : positiveId(runner, "runner", "id", true);
    String description =
        runner == null ? null : string(runner, "runner", "description", MAX_DESCRIPTION);
    return new JobHookEvent(
        projectId, path, jobId, jobName, status, runnerId, description, payloadTags(root));
  }

  private static String status(JsonNode root) {
    String value = string(root, null, "build_status", 64);
    if (value == null) {
      throw missing("build_status");
    }
    String status = value.strip().toLowerCase(Locale.ROOT);
    if (!STATUS.matcher(status).matches()) {
      throw ApiException.invalidField(
          "build_status", "build_status must be a GitLab job status such as pending or success.");
    }
    return status;
  }

  private static String nonBlank(String value, String name) {
    if (value != null && value.isBlank()) {
      throw ApiException.invalidField(name, name + " must not be blank.");
    }
    return value;
  }

  /** The job's tags when the payload has a list of them (even an empty one), else null. */
  private static List<String> payloadTags(JsonNode root) {
    for (String field : TAG_FIELDS) {
      JsonNode node = root.get(field);
      if (node == null || node.isNull()) {
        continue;
      }
      if (!node.isArray()) {
        throw ApiException.invalidField(field, field + " must be an array of strings.");
      }
      if (node.size() > MAX_TAGS) {
        throw ApiException.invalidField(field, field + " has more than " + MAX_TAGS + " entries.");
      }
      List<String> tags = new ArrayList<>(node.size());
      for (JsonNode tag : node) {
        if (!tag.isString()) {
          throw ApiException.invalidField(field, field + " must be an array of strings.");
        }
        if (tag.stringValue().length() > MAX_TAG) {
          throw ApiException.invalidField(
              field, field + " has a tag longer than " + MAX_TAG + " characters.");
        }
        tags.add(tag.stringValue());
      }
      return normalize(tags);
    }
    return null;
  }

  /**
   * Tags as a runner is registered with them: trimmed, blank ones dropped, each once, in the order
   * given.
   */
  static List<String> normalize(Collection<String> tags) {
    Set<String> out = new LinkedHashSet<>();
    for (String tag : tags) {
      if (tag != null && !tag.isBlank()) {
        out.add(tag.strip());
      }
    }
    return List.copyOf(out);
  }
}
