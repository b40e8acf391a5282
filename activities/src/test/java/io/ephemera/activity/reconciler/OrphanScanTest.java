package io.ephemera.activity.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.ephemera.activity.credentials.LeaseIndex;
import io.ephemera.common.WorkflowIds;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class OrphanScanTest {
  private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
  private static final Duration GRACE = Duration.ofMinutes(10);
  private static final String RUNNING = WorkflowIds.reviewApp(1, 1);
  private static final String GONE = WorkflowIds.reviewApp(1, 2);
  private static final String CLOSED_JUST_NOW = WorkflowIds.runner(1, 3);

  private final Owners owners =
      id ->
          id.equals(RUNNING)
              ? new Owners.State(true, "running", null)
              : id.equals(CLOSED_JUST_NOW)
                  ? new Owners.State(false, "completed", NOW.minusSeconds(60))
                  : Owners.State.NOT_FOUND;

  private Listing scan(ManagedSource source, Owners owners) {
    return new OrphanScan(owners, Clock.fixed(NOW, ZoneOffset.UTC))
        .scan(source, GRACE, 2, 10, cursor -> {});
  }

  private static ManagedSource.Managed managed(String name, String owner, Instant createdAt) {
    return new ManagedSource.Managed(name, owner, createdAt, 1, null);
  }

  /** An in-memory source of fixed items, two a page. */
  private static ManagedSource source(ManagedSource.Managed... items) {
    return new ManagedSource() {
      @Override
      public String kind() {
        return ResourceKinds.NAMESPACE;
      }

      @Override
      public Page page(String cursor, int limit) {
        int from = cursor == null ? 0 : Integer.parseInt(cursor);
        int to = Math.min(items.length, from + limit);
        return new Page(List.of(items).subList(from, to), to < items.length ? "" + to : null);
      }
    };
  }

  @Test
  void aResourceOfARunningOwnerIsNeverACandidateWhateverItsAge() {
    Listing listing =
        scan(
            source(
                managed("ancient", RUNNING, Instant.EPOCH),
                managed("unknown-age", RUNNING, null),
                managed("orphan", GONE, NOW.minus(Duration.ofHours(1)))),
            owners);

    assertThat(listing.complete()).isTrue();
    assertThat(listing.ownedByRunning()).isEqualTo(2);
    assertThat(listing.candidates()).extracting(Orphan::resource).containsExactly("orphan");
  }

  @Test
  void youngResourcesWaitForTheGracePeriod() {
    Listing listing =
        scan(
            source(
                managed("young", GONE, NOW.minus(Duration.ofMinutes(9))),
                managed("old", GONE, NOW.minus(Duration.ofMinutes(11))),
                // Age unknown: the owner's close a minute ago is the clock, so it waits too.
                managed("unknown-age-owner-just-closed", CLOSED_JUST_NOW, null),
                managed("unknown-age-owner-unknown", GONE, null),
                managed("shared", null, Instant.EPOCH)),
            owners);

    assertThat(listing.candidates())
        .extracting(Orphan::resource)
        .containsExactly("old", "unknown-age-owner-unknown");
    assertThat(listing.young()).isEqualTo(2);
    assertThat(listing.live()).isEqualTo(4); // the shared namespace names no owner
  }

  @Test
  void aFailedOwnerLookupIsATemporalErrorNeverAnAnswer() {
    Owners down =
        id -> {
          throw new Owners.LookupFailed("UNAVAILABLE: connection refused", null);
        };

    Listing listing = scan(source(managed("orphan", GONE, Instant.EPOCH)), down);

    assertThat(listing.complete()).isFalse();
    assertThat(listing.candidates()).isEmpty();
    assertThat(listing.errors()).containsOnlyKeys(ResourceKinds.SOURCE_TEMPORAL);
  }

  @Test
  void aSourceFailingOnALaterPageLeavesNoCandidates() {
    ManagedSource failing =
        new ManagedSource() {
          @Override
          public String kind() {
            return ResourceKinds.INSTANCE;
          }

          @Override
          public Page page(String cursor, int limit) {
            if (cursor != null) {
              throw new IllegalStateException("RequestLimitExceeded");
            }
            return new Page(List.of(managed("i-1", GONE, Instant.EPOCH)), "next");
          }
        };

    Listing listing = scan(failing, owners);

    assertThat(listing.complete()).isFalse();
    assertThat(listing.candidates()).isEmpty();
    assertThat(listing.errors()).containsOnlyKeys(ResourceKinds.SOURCE_EC2);
  }

  @Test
  void leasesComeFromTheLeaseIndexWithWhatRevokingNeeds() {
    InMemoryLeaseIndex index = new InMemoryLeaseIndex();
    index.record(
        new LeaseIndex.Entry(
            "aws/creds/push/1", "registry-push", "aws/creds/push", GONE, Instant.EPOCH, null));
    index.record(
        new LeaseIndex.Entry(
            "aws/creds/push/2", "registry-push", "aws/creds/push", RUNNING, Instant.EPOCH, null));
    index.record(
        new LeaseIndex.Entry(
            "aws/creds/push/3", "registry-push", "aws/creds/push", GONE, Instant.EPOCH, null));

    Listing listing = scan(new LeaseSource(index), owners);

    assertThat(listing.pages()).isEqualTo(2);
    assertThat(listing.candidates())
        .extracting(o -> o.lease().leaseId())
        .containsExactly("aws/creds/push/1", "aws/creds/push/3");
    assertThat(listing.candidates()).allSatisfy(o -> assertThat(o.projectId()).isEqualTo(1));
  }

  /** The simplest lease index: sorted by lease id, paged by the last id seen. */
  static final class InMemoryLeaseIndex implements LeaseIndex {
    private final TreeMap<String, Entry> entries = new TreeMap<>();

    @Override
    public synchronized void record(Entry entry) {
      entries.put(entry.leaseId(), entry);
    }

    @Override
    public synchronized void remove(String leaseId) {
      entries.remove(leaseId);
    }

    @Override
    public synchronized Page page(String after, int limit) {
      Map<String, Entry> tail = after == null ? entries : entries.tailMap(after, false);
      List<Entry> page = new ArrayList<>();
      for (Entry e : tail.values()) {
        if (page.size() == limit) {
          break;
        }
        page.add(e);
      }
      boolean more = tail.size() > page.size();
      return new Page(page, more ? page.getLast().leaseId() : null);
    }
  }
}
