package io.ephemera.activity.reconciler;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reading owners and times off managed resources. */
final class Ownership {
  private static final Pattern PROJECT = Pattern.compile("(?:review-app|runner)/([0-9]{1,19})/.*");

  private Ownership() {}

  /** The GitLab project a workflow id names, 0 when it names none. */
  static long projectOf(String workflowId) {
    if (workflowId == null) {
      return 0;
    }
    Matcher m = PROJECT.matcher(workflowId);
    if (!m.matches()) {
      return 0;
    }
    try {
      return Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** An RFC 3339 timestamp as Kubernetes writes it, or null. */
  static Instant instant(String timestamp) {
    if (timestamp == null || timestamp.isBlank()) {
      return null;
    }
    try {
      return Instant.parse(timestamp);
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
