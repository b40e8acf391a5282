package io.ephemera.activity.build;

import io.ephemera.common.Labels;
import io.ephemera.common.Names;
import java.util.LinkedHashMap;
import java.util.Map;

/** Labels and annotations of a build's Job and pods, whatever the builder. */
final class BuildLabels {
  /** The build's name (its Job's name): how its pods are found, on any cluster. */
  static final String BUILD = "ephemera.io/build";

  static final String KIND_BUILD = "build";

  /** The image a build pushes, for people reading the Job. */
  static final String DESTINATION_ANNOTATION = "ephemera.io/destination";

  private BuildLabels() {}

  static Map<String, String> labels(BuildRequest r) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE);
    labels.put(Labels.WORKFLOW_ID, Names.labelValue(r.workflowId()));
    labels.put(Labels.KIND, KIND_BUILD);
    labels.put(Labels.PROJECT_ID, Long.toString(r.projectId()));
    labels.put(Labels.SHA, shaLabel(r.sha()));
    labels.put(BUILD, r.name());
    return labels;
  }

  static Map<String, String> annotations(BuildRequest r) {
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put(Labels.WORKFLOW_ID_ANNOTATION, r.workflowId());
    annotations.put(DESTINATION_ANNOTATION, r.destination());
    return annotations;
  }

  /** A SHA-256 repository's 64 hex digits exceed a label's 63; 63 of them are as unique. */
  static String shaLabel(String sha) {
    return sha.length() > Names.MAX_LABEL ? sha.substring(0, Names.MAX_LABEL) : sha;
  }
}
