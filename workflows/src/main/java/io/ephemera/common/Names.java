package io.ephemera.common;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Derives Kubernetes names from user input. Every result is a valid DNS-1123 label: lower-case
 * alphanumerics and '-', starting and ending with an alphanumeric, at most 63 characters. A name
 * that had to be shortened ends in a hash of the full input, so two long inputs that share a prefix
 * still get different names. Pure functions: safe to call from workflow code.
 */
public final class Names {
  public static final int MAX_LABEL = 63;
  private static final Pattern DNS_1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final int HASH_CHARS = 8;

  /**
   * One segment of a GitLab group or project path, as GitLab itself validates it: letters, digits,
   * '_', '-' and '.', not starting with '-' or '.', at most 255 characters.
   */
  private static final Pattern GITLAB_PATH_SEGMENT =
      Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.\\-]{0,254}");

  private Names() {}

  /**
   * Whether {@code path} could be a GitLab project's {@code path_with_namespace}: segments as
   * GitLab allows them, no {@code ..}, not ending in {@code .git} or {@code .atom}. Anything else
   * cannot come from GitLab, and would end up in image references, git URLs and labels.
   */
  public static boolean isGitLabProjectPath(String path) {
    if (path == null || path.isEmpty() || path.length() > 4096 || path.contains("..")) {
      return false;
    }
    if (path.endsWith(".git") || path.endsWith(".atom")) {
      return false;
    }
    for (String segment : path.split("/", -1)) {
      if (!GITLAB_PATH_SEGMENT.matcher(segment).matches()) {
        return false;
      }
    }
    return true;
  }

  public static boolean isDns1123Label(String s) {
    return s != null && s.length() <= MAX_LABEL && DNS_1123_LABEL.matcher(s).matches();
  }

  /**
   * Lower-cases, replaces every run of characters outside {@code [a-z0-9]} with one '-', trims
   * dashes, and caps at {@code max} characters with a hash suffix when it had to cut.
   */
  public static String dns1123Label(String input, int max) {
    if (max < HASH_CHARS + 2 || max > MAX_LABEL) {
      throw new IllegalArgumentException("max must be between 10 and 63, was " + max);
    }
    String raw = input == null ? "" : input;
    String slug = slug(raw);
    if (slug.isEmpty()) {
      slug = "x";
    }
    if (slug.length() <= max) {
      return slug;
    }
    String hash = hash(raw);
    String head = trimDashes(slug.substring(0, max - HASH_CHARS - 1));
    return (head.isEmpty() ? "x" : head) + "-" + hash;
  }

  /** Namespace of the review app for a merge request: {@code review-<id>-mr-<iid>-<path>}. */
  public static String reviewNamespace(long projectId, String projectPath, long mrIid) {
    String base = "review-" + projectId + "-mr-" + mrIid;
    String path = slug(projectPath == null ? "" : projectPath);
    String full = path.isEmpty() ? base : base + "-" + path;
    if (full.length() <= MAX_LABEL) {
      return full;
    }
    // Keep the ids whole (they make the name unique) and shorten only the readable path part.
    String hash = hash(projectPath);
    int room = MAX_LABEL - base.length() - HASH_CHARS - 2;
    String head = room > 0 ? trimDashes(path.substring(0, Math.min(room, path.length()))) : "";
    return head.isEmpty() ? base + "-" + hash : base + "-" + head + "-" + hash;
  }

  /**
   * A workflow id as a label value: label values may not hold '/', so it becomes '.'. Ids are built
   * from numbers and fixed words, so the mapping is reversible with {@link #workflowIdFromLabel}.
   */
  public static String labelValue(String workflowId) {
    String v = workflowId.replace('/', '.');
    if (v.length() > MAX_LABEL) {
      throw new IllegalArgumentException("workflow id too long for a label: " + workflowId);
    }
    return v;
  }

  public static String workflowIdFromLabel(String labelValue) {
    return labelValue.replace('.', '/');
  }

  /** Lower-case alphanumerics with single dashes; no length cap. */
  public static String slug(String s) {
    String lower = s.toLowerCase(Locale.ROOT);
    StringBuilder b = new StringBuilder(lower.length());
    boolean dash = false;
    for (int i = 0; i < lower.length(); i++) {
      char c = lower.charAt(i);
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        b.append(c);
        dash = false;
      } else if (!dash) {
        b.append('-');
        dash = true;
      }
    }
    return trimDashes(b.toString());
  }

  private static String trimDashes(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && s.charAt(start) == '-') {
      start++;
    }
    while (end > start && s.charAt(end - 1) == '-') {
      end--;
    }
    return s.substring(start, end);
  }

  private static String hash(String s) {
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256")
              .digest((s == null ? "" : s).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d).substring(0, HASH_CHARS);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every JRE", e);
    }
  }
}
