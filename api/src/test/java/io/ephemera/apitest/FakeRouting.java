package io.ephemera.apitest;

import io.ephemera.runner.JobTagsLookup;
import io.ephemera.runner.RouteLookup;
import io.ephemera.runner.RunnerRoute;
import io.ephemera.runner.RunnerType;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The routing table and the Jobs API as the api sees them, for tests: every project is served but
 * {@link #UNSERVED_PROJECT}; jobs named {@code lint...} have no route; tagged {@code ec2} they get
 * an EC2 runner, else a pod. The Jobs API answers {@code [docker]} unless a test set other tags, a
 * failure or slowness for a job id. Tests share one instance, so each uses its own job ids.
 */
public class FakeRouting implements RouteLookup, JobTagsLookup {
  public static final long UNSERVED_PROJECT = 404_404;

  /** Every routing table call for this project fails, as if DynamoDB were unreachable. */
  public static final long BROKEN_ROUTING_PROJECT = 503_503;

  public static final RunnerRoute POD =
      new RunnerRoute(
          "k8s-small", RunnerType.KUBERNETES, "1", "2Gi", null, null, null, Duration.ofHours(2));
  public static final RunnerRoute EC2 =
      new RunnerRoute(
          "ec2-large", RunnerType.EC2, null, null, "m7i.xlarge", null, "ami-0abc", null);

  /** A secret-looking string a failing Jobs API puts in its message: it must never be logged. */
  public static final String SECRET_IN_FAILURE = "glpat-leaky-secret-xyzzy";

  public record RouteCall(long projectId, String jobName, List<String> tags) {}

  private final Map<Long, List<String>> jobTags = new ConcurrentHashMap<>();
  private final Set<Long> failingJobs = ConcurrentHashMap.newKeySet();
  private final Set<Long> slowJobs = ConcurrentHashMap.newKeySet();
  private final List<RouteCall> routeCalls = new CopyOnWriteArrayList<>();
  private final List<Long> tagLookups = new CopyOnWriteArrayList<>();

  @Override
  public Optional<RunnerRoute> route(long projectId, String jobName, List<String> tags) {
    if (projectId == BROKEN_ROUTING_PROJECT) {
      throw new IllegalStateException("routing table unreachable");
    }
    routeCalls.add(new RouteCall(projectId, jobName, List.copyOf(tags)));
    if (jobName.startsWith("lint")) {
      return Optional.empty();
    }
    return Optional.of(tags.contains("ec2") ? EC2 : POD);
  }

  @Override
  public boolean servesProject(long projectId) {
    if (projectId == BROKEN_ROUTING_PROJECT) {
      throw new IllegalStateException("routing table unreachable");
    }
    return projectId != UNSERVED_PROJECT;
  }

  @Override
  public List<String> tags(long projectId, long jobId) {
    tagLookups.add(jobId);
    if (failingJobs.contains(jobId)) {
      throw new IllegalStateException(
          "GET /projects/" + projectId + " failed " + SECRET_IN_FAILURE);
    }
    if (slowJobs.contains(jobId)) {
      try {
        Thread.sleep(Duration.ofSeconds(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
    return jobTags.getOrDefault(jobId, List.of("docker"));
  }

  public void jobTags(long jobId, List<String> tags) {
    jobTags.put(jobId, tags);
  }

  public void failTagsOf(long jobId) {
    failingJobs.add(jobId);
  }

  public void slowTagsOf(long jobId) {
    slowJobs.add(jobId);
  }

  /** The routing calls made for one job name of one project, oldest first. */
  public List<RouteCall> routeCalls(long projectId) {
    return routeCalls.stream().filter(c -> c.projectId() == projectId).toList();
  }

  public boolean tagsLookedUp(long jobId) {
    return tagLookups.contains(jobId);
  }
}
