package io.ephemera.runner;

/**
 * A Job Hook as seen by a runner workflow: job {@code jobId} is now {@code status} (GitLab's {@code
 * build_status}: running, success, failed, canceled, skipped, ...), on runner {@code runnerId}
 * (null when no runner has it).
 */
public record JobEvent(long jobId, String status, Long runnerId) {
  public boolean finished() {
    return switch (status) {
      case "success", "failed", "canceled", "skipped", "manual" -> true;
      default -> false;
    };
  }
}
