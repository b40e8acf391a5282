package io.ephemera.common;

/** Business-key workflow ids. Stored in history, labels and tags: never change the format. */
public final class WorkflowIds {
  private WorkflowIds() {}

  public static String reviewApp(long projectId, long mrIid) {
    return "review-app/" + projectId + "/mr-" + mrIid;
  }
}
