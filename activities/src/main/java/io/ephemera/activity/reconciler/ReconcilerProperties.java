package io.ephemera.activity.reconciler;

import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code ephemera.reconciler.*}: the loop that repairs what lost webhooks left undone and reaps
 * managed resources whose workflow is gone. Validated at start-up.
 *
 * @param enabled run the reconciler at all
 * @param interval sleep between passes
 * @param jitter up to this much random time is added to each sleep, so replicas and restarts do not
 *     line passes up with each other's load
 * @param grace a resource younger than this is never reaped, whatever its owner: a workflow may
 *     create a resource an instant before Temporal records its progress
 * @param dryRun report what would be reaped and repaired, change nothing
 * @param pageSize items per page asked of every source (Kubernetes {@code limit}, EC2 {@code
 *     MaxResults}, GitLab {@code per_page}, the lease index); memory is bounded by it
 * @param projects GitLab projects to repair, besides those of open Ephemera workflows
 * @param passesPerRun continue-as-new after this many passes, keeping the history short
 * @param maxReapsPerPass at most this many orphans per kind (and repairs) per pass; the rest wait
 *     for the next pass, so one pass never turns into a mass deletion
 * @param reapTimeout how long one deletion or repair may take before the pass gives up on it (it is
 *     found again next pass)
 * @param ownerTimeout how long one "is the owner running?" question to Temporal may take
 */
@ConfigurationProperties("ephemera.reconciler")
public record ReconcilerProperties(
    @DefaultValue("true") boolean enabled,
    @DefaultValue("5m") Duration interval,
    @DefaultValue("30s") Duration jitter,
    @DefaultValue("10m") Duration grace,
    @DefaultValue("false") boolean dryRun,
    @DefaultValue("500") int pageSize,
    List<Long> projects,
    @DefaultValue("100") int passesPerRun,
    @DefaultValue("200") int maxReapsPerPass,
    @DefaultValue("2m") Duration reapTimeout,
    @DefaultValue("10s") Duration ownerTimeout) {

  /** GitLab's and Kubernetes' practical page limits. */
  static final int MAX_PAGE_SIZE = 1000;

  public ReconcilerProperties {
    projects = projects == null ? List.of() : projects;
    positive("interval", interval);
    positive("grace", grace);
    positive("reap-timeout", reapTimeout);
    positive("owner-timeout", ownerTimeout);
    if (jitter == null || jitter.isNegative()) {
      throw new IllegalArgumentException(
          "ephemera.reconciler.jitter must be zero or positive, was " + jitter);
    }
    if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      throw new IllegalArgumentException(
          "ephemera.reconciler.page-size must be between 1 and "
              + MAX_PAGE_SIZE
              + ", was "
              + pageSize);
    }
    if (passesPerRun < 1) {
      throw new IllegalArgumentException(
          "ephemera.reconciler.passes-per-run must be at least 1, was " + passesPerRun);
    }
    if (maxReapsPerPass < 1) {
      throw new IllegalArgumentException(
          "ephemera.reconciler.max-reaps-per-pass must be at least 1, was " + maxReapsPerPass);
    }
    for (Long p : projects) {
      if (p == null || p <= 0) {
        throw new IllegalArgumentException(
            "ephemera.reconciler.projects must hold GitLab project ids (positive numbers), had "
                + p);
      }
    }
    projects = List.copyOf(projects);
  }

  private static void positive(String name, Duration d) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(
          "ephemera.reconciler." + name + " must be positive, was " + d);
    }
  }
}
