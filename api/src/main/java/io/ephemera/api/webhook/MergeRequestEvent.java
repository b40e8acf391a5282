package io.ephemera.api.webhook;

import static io.ephemera.api.webhook.JsonFields.missing;
import static io.ephemera.api.webhook.JsonFields.object;
import static io.ephemera.api.webhook.JsonFields.positiveId;
import static io.ephemera.api.webhook.JsonFields.string;

import io.ephemera.api.error.ApiException;
import io.ephemera.common.Names;
import java.util.Locale;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * The fields of a GitLab Merge Request Hook that routing needs, checked. Fields a given action does
 * not need may be absent (a close must get through even from an odd payload, or an environment
 * would outlive its merge request); a field that is present with the wrong type or value is always
 * rejected.
 *
 * @param projectId {@code project.id}, the target project
 * @param projectPath {@code project.path_with_namespace}; carried as data only
 * @param iid {@code object_attributes.iid}
 * @param action {@code object_attributes.action}: open, reopen, update, close, merge, approved...
 * @param title {@code object_attributes.title}, shortened to {@link #MAX_TITLE} code points
 * @param sourceProjectId {@code object_attributes.source_project_id}, 0 when absent
 * @param targetProjectId {@code object_attributes.target_project_id}, 0 when absent
 * @param sha {@code object_attributes.last_commit.id}, lower case, or null
 * @param oldrev {@code object_attributes.oldrev}, present on an update that pushed commits
 * @param sourceBranch {@code object_attributes.source_branch}, or null; the ref GitLab's
 *     Deployments API records for a review app's deploy
 */
record MergeRequestEvent(
    long projectId,
    String projectPath,
    long iid,
    String action,
    String title,
    long sourceProjectId,
    long targetProjectId,
    String sha,
    String oldrev,
    String sourceBranch) {

  static final String KIND = "merge_request";

  /** GitLab caps titles at 255 characters; anything longer is not worth carrying in history. */
  static final int MAX_TITLE = 255;

  /** Far beyond GitLab's nesting limits; only guards history size against absurd input. */
  static final int MAX_PATH = 4096;

  static final int MAX_ACTION = 64;

  private static final Pattern SHA = Pattern.compile("[0-9a-fA-F]{40}|[0-9a-fA-F]{64}");

  /** Whether the source branch lives in another project than the target. */
  boolean fromFork() {
    return sourceProjectId != targetProjectId;
  }

  /** Checks the fields a deploy needs and that the header checks could not. */
  MergeRequestEvent requireDeployable() {
    if (projectPath == null) {
      throw missing("project.path_with_namespace");
    }
    if (sourceProjectId == 0) {
      throw missing("object_attributes.source_project_id");
    }
    if (targetProjectId == 0) {
      throw missing("object_attributes.target_project_id");
    }
    if (sha == null) {
      throw missing("object_attributes.last_commit.id");
    }
    return this;
  }

  static MergeRequestEvent parse(JsonNode root) {
    JsonNode project = object(root, null, "project", true);
    JsonNode attributes = object(root, null, "object_attributes", true);
    long projectId = positiveId(project, "project", "id", true);
    String path = string(project, "project", "path_with_namespace", MAX_PATH);
    if (path != null && !Names.isGitLabProjectPath(path)) {
      // GitLab never sends such a path; it would end up in image names, git URLs and labels.
      throw ApiException.invalidField(
          "project.path_with_namespace",
          "project.path_with_namespace must be a GitLab path: segments of letters, digits, '_',"
              + " '-' and '.' (at most 255 each, not starting with '-' or '.'), no '..'.");
    }
    long iid = positiveId(attributes, "object_attributes", "iid", true);
    String action = string(attributes, "object_attributes", "action", MAX_ACTION);
    if (action == null || action.isBlank()) {
      throw missing("object_attributes.action");
    }
    String title = string(attributes, "object_attributes", "title", Integer.MAX_VALUE);
    long source = positiveId(attributes, "object_attributes", "source_project_id", false);
    long target = positiveId(attributes, "object_attributes", "target_project_id", false);
    JsonNode lastCommit = object(attributes, "object_attributes", "last_commit", false);
    String sha = lastCommit == null ? null : sha(lastCommit, "object_attributes.last_commit", "id");
    String oldrev = sha(attributes, "object_attributes", "oldrev");
    String branch = string(attributes, "object_attributes", "source_branch", Integer.MAX_VALUE);
    return new MergeRequestEvent(
        projectId,
        path,
        iid,
        action.strip().toLowerCase(Locale.ROOT),
        shorten(title == null ? "" : title, MAX_TITLE),
        source,
        target,
        sha,
        oldrev,
        // Git caps ref names far below this; a longer one is not a branch GitLab could have.
        branch == null || branch.isBlank() || branch.length() > MAX_TITLE ? null : branch);
  }

  private static String sha(JsonNode parent, String prefix, String field) {
    String name = prefix + "." + field;
    String value = string(parent, prefix, field, Integer.MAX_VALUE);
    if (value == null) {
      return null;
    }
    if (!SHA.matcher(value).matches()) {
      // The value is not echoed: it is not a SHA, so it is whatever the sender put there.
      throw ApiException.invalidField(
          name, name + " must be a commit SHA of 40 or 64 hexadecimal characters.");
    }
    return value.toLowerCase(Locale.ROOT);
  }

  /** Cuts at a code point boundary, so a long emoji title never ends in half a surrogate pair. */
  static String shorten(String value, int maxCodePoints) {
    if (value.codePointCount(0, value.length()) <= maxCodePoints) {
      return value;
    }
    return value.substring(0, value.offsetByCodePoints(0, maxCodePoints - 1)) + "…";
  }
}
