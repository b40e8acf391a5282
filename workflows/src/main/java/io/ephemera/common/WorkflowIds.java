package io.ephemera.common;

/** Business-key workflow ids. Stored in history, labels and tags: never change the format. */
public final class WorkflowIds {
  private WorkflowIds() {}

  private static final java.util.regex.Pattern RUNNER_ID =
      java.util.regex.Pattern.compile("runner/[0-9]{1,19}/job-[0-9]{1,19}");

  /** Prefix of the GitLab runner description; the workflow id follows it. */
  public static final String RUNNER_DESCRIPTION_PREFIX = "ephemera ";

  public static String reviewApp(long projectId, long mrIid) {
    return "review-app/" + projectId + "/mr-" + mrIid;
  }

  public static String runner(long projectId, long jobId) {
    return "runner/" + projectId + "/job-" + jobId;
  }

  /** The per-project concurrency guard of runners. */
  public static String runnerSlots(long projectId) {
    return "runner-slots/" + projectId;
  }

  /** The description Ephemera gives the GitLab runner it registers for a workflow. */
  public static String runnerDescription(String runnerWorkflowId) {
    return RUNNER_DESCRIPTION_PREFIX + runnerWorkflowId;
  }

  /**
   * The runner workflow that owns a GitLab runner, read from the runner's description (Job Hooks
   * carry it as {@code runner.description}); empty for runners Ephemera did not register.
   */
  public static java.util.Optional<String> runnerWorkflowFromDescription(String description) {
    if (description == null || !description.startsWith(RUNNER_DESCRIPTION_PREFIX)) {
      return java.util.Optional.empty();
    }
    String id = description.substring(RUNNER_DESCRIPTION_PREFIX.length()).trim();
    return RUNNER_ID.matcher(id).matches() ? java.util.Optional.of(id) : java.util.Optional.empty();
  }

  private static final java.util.regex.Pattern KEYED =
      java.util.regex.Pattern.compile("(review-app|runner)/([0-9]{1,19})/(mr|job)-([0-9]{1,19})");

  /**
   * What a business-key workflow id names: its kind ({@code review-app} or {@code runner}), the
   * project, and the merge request iid or the job id (the other is {@code null}). Empty for any
   * other id (the reconciler, the slot guards, a hand-made id).
   */
  public record Key(String kind, long projectId, Long mrIid, Long jobId) {}

  public static java.util.Optional<Key> parse(String workflowId) {
    if (workflowId == null) {
      return java.util.Optional.empty();
    }
    java.util.regex.Matcher m = KEYED.matcher(workflowId);
    if (!m.matches() || m.group(1).equals("review-app") != m.group(3).equals("mr")) {
      return java.util.Optional.empty();
    }
    try {
      long project = Long.parseLong(m.group(2));
      long number = Long.parseLong(m.group(4));
      return java.util.Optional.of(
          m.group(3).equals("mr")
              ? new Key(m.group(1), project, number, null)
              : new Key(m.group(1), project, null, number));
    } catch (NumberFormatException e) {
      return java.util.Optional.empty(); // more digits than a long holds
    }
  }
}
