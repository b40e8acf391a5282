package io.ephemera.activity.reconciler;

import io.ephemera.activity.reconciler.ManagedSource.Managed;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pages through one {@link ManagedSource}, asks {@link Owners} about every owner, and keeps only
 * the orphan candidates (up to a cap) and counts: memory is bounded by the page size and the cap,
 * whatever the source holds.
 *
 * <p>A resource is a candidate only when its owner is <em>known</em> not to be running (closed, or
 * unknown to Temporal) and it is older than the grace period; when the system does not say when it
 * was created, its owner must have closed longer than the grace period ago, or be unknown. A
 * failure of the source or of Temporal ends the scan with {@code complete=false} and the error
 * under that source: nothing from an incomplete scan may be reaped.
 */
public final class OrphanScan {
  private static final Logger log = LoggerFactory.getLogger(OrphanScan.class);

  private final Owners owners;
  private final Clock clock;

  public OrphanScan(Owners owners, Clock clock) {
    this.owners = owners;
    this.clock = clock;
  }

  /**
   * @param heartbeat told the cursor of every page read, so a long scan shows progress and a dead
   *     worker is noticed
   */
  public Listing scan(
      ManagedSource source,
      Duration grace,
      int pageSize,
      int maxCandidates,
      Consumer<String> heartbeat) {
    String kind = source.kind();
    Instant now = clock.instant();
    List<Orphan> candidates = new ArrayList<>();
    long live = 0;
    long running = 0;
    long young = 0;
    long orphans = 0;
    Instant oldest = null;
    int pages = 0;
    int largestPage = 0;
    String cursor = null;
    do {
      ManagedSource.Page page;
      try {
        page = source.page(cursor, pageSize);
      } catch (RuntimeException e) {
        log.warn("Listing {}s failed after {} pages: {}", kind, pages, e.toString());
        return incomplete(kind, ResourceKinds.source(kind), e, live, pages, largestPage);
      }
      pages++;
      largestPage = Math.max(largestPage, page.items().size());
      // Owners repeat within a page (a runner's pod and its GitLab runner, several leases).
      Map<String, Owners.State> asked = new HashMap<>();
      for (Managed m : page.items()) {
        if (m.owner() == null) {
          continue;
        }
        live++;
        if (m.createdAt() != null && (oldest == null || m.createdAt().isBefore(oldest))) {
          oldest = m.createdAt();
        }
        boolean oldEnough = m.createdAt() == null || !m.createdAt().plus(grace).isAfter(now);
        if (!oldEnough) {
          young++;
          continue;
        }
        Owners.State state;
        try {
          state = asked.computeIfAbsent(m.owner(), owners::state);
        } catch (RuntimeException e) {
          log.warn("Asking Temporal about the owner of a {} failed: {}", kind, e.toString());
          return incomplete(kind, ResourceKinds.SOURCE_TEMPORAL, e, live, pages, largestPage);
        }
        if (state.running()) {
          running++;
          continue;
        }
        if (m.createdAt() == null
            && state.closedAt() != null
            && state.closedAt().plus(grace).isAfter(now)) {
          young++; // age unknown: the owner's end is the only clock there is
          continue;
        }
        orphans++;
        if (candidates.size() < maxCandidates) {
          candidates.add(
              new Orphan(
                  kind,
                  m.resource(),
                  m.owner(),
                  m.projectId(),
                  m.createdAt(),
                  state.description(),
                  m.lease(),
                  m.build()));
        }
      }
      cursor = page.next();
      heartbeat.accept(cursor == null ? "done after " + pages + " pages" : cursor);
    } while (cursor != null);
    Long oldestAge = oldest == null ? null : Math.max(0, Duration.between(oldest, now).toSeconds());
    return new Listing(
        kind,
        true,
        live,
        running,
        young,
        orphans,
        oldestAge,
        pages,
        largestPage,
        candidates,
        Map.of());
  }

  private static Listing incomplete(
      String kind, String source, RuntimeException e, long live, int pages, int largestPage) {
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return new Listing(
        kind,
        false,
        live,
        0,
        0,
        0,
        null,
        pages,
        largestPage,
        List.of(),
        Map.of(source, shorten(message)));
  }

  static String shorten(String m) {
    return m.length() > 300 ? m.substring(0, 300) + "…" : m;
  }
}
