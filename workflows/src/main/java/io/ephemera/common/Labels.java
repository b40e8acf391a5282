package io.ephemera.common;

/** Label and annotation keys on every object Ephemera creates. The reconciler relies on them. */
public final class Labels {
  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String MANAGED_BY_VALUE = "ephemera";

  /** The owning workflow id, with '/' written as '.' (see {@link Names#labelValue}). */
  public static final String WORKFLOW_ID = "ephemera.io/workflow-id";

  public static final String KIND = "ephemera.io/kind";
  public static final String PROJECT_ID = "ephemera.io/project-id";
  public static final String MR_IID = "ephemera.io/mr-iid";
  public static final String SHA = "ephemera.io/sha";

  /** Annotation holding the workflow id verbatim, for people reading the object. */
  public static final String WORKFLOW_ID_ANNOTATION = "ephemera.io/workflow-id";

  public static final String JOB_ID = "ephemera.io/job-id";

  public static final String KIND_REVIEW_APP = "review-app";
  public static final String KIND_RUNNER = "runner";

  private Labels() {}
}
