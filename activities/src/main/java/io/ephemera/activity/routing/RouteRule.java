package io.ephemera.activity.routing;

import io.ephemera.runner.RunnerRoute;
import java.util.Collection;
import java.util.Collections;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * One line of the routing table: jobs whose name matches {@code jobNamePattern} and that carry
 * every one of {@code tags} get {@code route}.
 *
 * @param jobNamePattern a glob over the job name ({@code *} any run of characters, {@code ?} one
 *     character, everything else literal and case-sensitive); {@code null} matches every job
 * @param tags tags the job must all carry (it may carry more); empty matches every job. Kept
 *     trimmed and sorted
 * @param route the runner such a job gets
 */
public record RouteRule(String jobNamePattern, Set<String> tags, RunnerRoute route) {

  public RouteRule {
    jobNamePattern = jobNamePattern == null || jobNamePattern.isBlank() ? null : jobNamePattern;
    tags = normaliseTags(tags);
    Objects.requireNonNull(route, "route");
    Objects.requireNonNull(route.type(), "route.type");
  }

  public RouteRule(String jobNamePattern, Collection<String> tags, RunnerRoute route) {
    this(jobNamePattern, normaliseTags(tags), route);
  }

  public boolean matches(String jobName, Collection<String> jobTags) {
    if (jobNamePattern != null && !glob(jobNamePattern, jobName == null ? "" : jobName)) {
      return false;
    }
    return tags.isEmpty() || (jobTags != null && normaliseTags(jobTags).containsAll(tags));
  }

  /** Trimmed, blank-free, sorted and unmodifiable. */
  static SortedSet<String> normaliseTags(Collection<String> tags) {
    TreeSet<String> s = new TreeSet<>();
    if (tags != null) {
      for (String t : tags) {
        if (t != null && !t.isBlank()) {
          s.add(t.trim());
        }
      }
    }
    return Collections.unmodifiableSortedSet(s);
  }

  /**
   * Glob match without regular expressions, so a pattern from configuration can never be an
   * expensive or invalid regex: linear backtracking over the last {@code *} only.
   */
  static boolean glob(String pattern, String s) {
    int p = 0;
    int i = 0;
    int star = -1;
    int mark = 0;
    while (i < s.length()) {
      if (p < pattern.length() && (pattern.charAt(p) == '?' || pattern.charAt(p) == s.charAt(i))) {
        p++;
        i++;
      } else if (p < pattern.length() && pattern.charAt(p) == '*') {
        star = p++;
        mark = i;
      } else if (star >= 0) {
        p = star + 1;
        i = ++mark;
      } else {
        return false;
      }
    }
    while (p < pattern.length() && pattern.charAt(p) == '*') {
      p++;
    }
    return p == pattern.length();
  }
}
