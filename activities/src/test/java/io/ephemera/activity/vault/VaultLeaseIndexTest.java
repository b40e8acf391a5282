package io.ephemera.activity.vault;

import static org.assertj.core.api.Assertions.assertThat;

import io.ephemera.activity.credentials.LeaseIndex;
import io.ephemera.activity.credentials.LeaseIndex.Entry;
import io.ephemera.activity.vault.VaultProperties.Auth;
import io.ephemera.activity.vault.VaultProperties.LeaseIndexLocation;
import io.ephemera.sandbox.SandboxVault;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The lease index on the sandbox's KV v2 mount, through the real session. */
class VaultLeaseIndexTest {
  static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");

  SandboxVault sandbox;
  VaultSession session;
  VaultLeaseIndex index;

  @BeforeEach
  void setUp() {
    sandbox = SandboxVault.start();
    VaultProperties props =
        new VaultProperties(
            sandbox.url(),
            null,
            Auth.token(sandbox.createToken(Duration.ofHours(1), true)),
            null,
            Duration.ofSeconds(2),
            null,
            null,
            null,
            new LeaseIndexLocation("secret", "ephemera/leases"));
    session = new VaultSession(props);
    index = new VaultLeaseIndex(session, props.leaseIndex());
  }

  @AfterEach
  void tearDown() {
    session.close();
    sandbox.close();
  }

  static Entry entry(int i) {
    return new Entry(
        "aws/creds/review-cache/lease-" + i,
        "build-cache",
        "aws/creds/review-cache",
        "review-app/42/mr-" + i,
        T0,
        T0.plus(Duration.ofMinutes(15)));
  }

  @Test
  void anEmptyIndexHasOneEmptyPage() {
    LeaseIndex.Page page = index.page(null, 10);

    assertThat(page.entries()).isEmpty();
    assertThat(page.next()).isNull();
  }

  @Test
  void pagesWalkEveryEntryOnceInAStableOrder() {
    for (int i = 0; i < 5; i++) {
      index.record(entry(i));
    }

    List<Entry> seen = new ArrayList<>();
    List<String> cursors = new ArrayList<>();
    String cursor = null;
    do {
      LeaseIndex.Page page = index.page(cursor, 2);
      assertThat(page.entries()).hasSizeLessThanOrEqualTo(2);
      seen.addAll(page.entries());
      cursor = page.next();
      cursors.add(cursor);
    } while (cursor != null);

    assertThat(seen).hasSize(5).doesNotHaveDuplicates();
    assertThat(seen).containsExactlyInAnyOrder(entry(0), entry(1), entry(2), entry(3), entry(4));
    assertThat(cursors).hasSize(3).endsWith((String) null);
    // Key order: the SHA-256 of each lease id.
    assertThat(seen.stream().map(e -> VaultLeaseIndex.key(e.leaseId())).toList()).isSorted();
    // The same walk again gives the same order.
    assertThat(index.page(null, 5).entries()).containsExactlyElementsOf(seen);
  }

  @Test
  void aCursorStaysValidWhenEntriesComeAndGo() {
    for (int i = 0; i < 4; i++) {
      index.record(entry(i));
    }
    LeaseIndex.Page first = index.page(null, 2);

    index.remove(first.entries().get(0).leaseId());
    index.remove(first.entries().get(1).leaseId());
    LeaseIndex.Page second = index.page(first.next(), 10);

    assertThat(second.entries()).hasSize(2).doesNotContainAnyElementsOf(first.entries());
    assertThat(second.next()).isNull();
  }

  @Test
  void removeDeletesTheEntryAndRemovingTwiceIsFine() {
    index.record(entry(1));

    index.remove(entry(1).leaseId());
    index.remove(entry(1).leaseId());

    assertThat(index.page(null, 10).entries()).isEmpty();
    assertThat(sandbox.requests())
        .anyMatch(r -> r.startsWith("DELETE /v1/secret/metadata/ephemera/leases/"));
  }

  @Test
  void keysAreSha256OfTheLeaseIdBecauseLeaseIdsHoldSlashes() {
    index.record(entry(3));

    assertThat(sandbox.requests())
        .contains(
            "POST /v1/secret/data/ephemera/leases/" + VaultLeaseIndex.key(entry(3).leaseId()));
    assertThat(VaultLeaseIndex.key("a/b")).hasSize(64).matches("[0-9a-f]+");
  }
}
