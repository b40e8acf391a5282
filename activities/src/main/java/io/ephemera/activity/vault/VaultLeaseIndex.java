package io.ephemera.activity.vault;

import io.ephemera.activity.credentials.LeaseIndex;
import io.ephemera.activity.vault.VaultProperties.LeaseIndexLocation;
import io.ephemera.activity.vault.VaultSession.VaultSecret;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lease index in Vault itself, on a KV v2 mount: one secret per lease at {@code
 * <mount>/data/<path>/<sha256 of the lease id>} (lease ids hold slashes, a hash does not), holding
 * the lease id, kind, path, owning workflow id and times; never a secret value. Pages come in the
 * order of those keys, which never changes, so a cursor (the last key of a page) stays valid while
 * entries come and go.
 *
 * <p>Policy it needs (defaults {@code secret}, {@code ephemera/leases}):
 *
 * <pre>
 * path "secret/data/ephemera/leases/*"     { capabilities = ["create", "update", "read"] }
 * path "secret/metadata/ephemera/leases"   { capabilities = ["list"] }
 * path "secret/metadata/ephemera/leases/*" { capabilities = ["delete"] }
 * </pre>
 */
public final class VaultLeaseIndex implements LeaseIndex {
  private static final Logger log = LoggerFactory.getLogger(VaultLeaseIndex.class);

  private final VaultSession vault;
  private final String mount;
  private final String folder;

  public VaultLeaseIndex(VaultSession vault, LeaseIndexLocation location) {
    this.vault = Objects.requireNonNull(vault, "vault");
    this.mount = location.mount();
    this.folder = location.path();
  }

  /** The key an entry is stored under: the lease id's SHA-256, in hex. */
  public static String key(String leaseId) {
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256").digest(leaseId.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every JRE", e);
    }
  }

  @Override
  public void record(Entry entry) {
    Objects.requireNonNull(entry.leaseId(), "leaseId");
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("lease_id", entry.leaseId());
    data.put("kind", entry.kind());
    data.put("path", entry.path());
    data.put("workflow_id", entry.workflowId());
    data.put("issued_at", entry.issuedAt() == null ? null : entry.issuedAt().toString());
    data.put("expires_at", entry.expiresAt() == null ? null : entry.expiresAt().toString());
    vault.writeKv2(mount, folder + "/" + key(entry.leaseId()), data);
    log.debug(
        "Lease index: recorded {} ({}) of {}", entry.leaseId(), entry.path(), entry.workflowId());
  }

  @Override
  public void remove(String leaseId) {
    vault.deleteKv2(mount, folder + "/" + key(leaseId));
  }

  @Override
  public Page page(String after, int limit) {
    if (limit <= 0) {
      throw new IllegalArgumentException("limit must be positive, was " + limit);
    }
    List<String> keys = new ArrayList<>();
    for (String k : vault.listKv2(mount, folder)) {
      // Sub-folders (ending in '/') are not entries.
      if (!k.endsWith("/") && (after == null || k.compareTo(after) > 0)) {
        keys.add(k);
      }
    }
    List<Entry> entries = new ArrayList<>();
    String last = null;
    int i = 0;
    for (; i < keys.size() && entries.size() < limit; i++) {
      String k = keys.get(i);
      last = k;
      VaultSecret s = vault.readKv2(mount, folder + "/" + k);
      if (s == null) {
        continue; // removed since the list
      }
      Entry e = entry(s.data());
      if (e != null) {
        entries.add(e);
      } else {
        log.warn("Lease index: {}/{}/{} is not an entry; skipped", mount, folder, k);
      }
    }
    return new Page(List.copyOf(entries), i < keys.size() ? last : null);
  }

  private static Entry entry(Map<String, String> d) {
    String leaseId = d.get("lease_id");
    if (leaseId == null || leaseId.isEmpty()) {
      return null;
    }
    return new Entry(
        leaseId,
        d.get("kind"),
        d.get("path"),
        d.get("workflow_id"),
        instant(d.get("issued_at")),
        instant(d.get("expires_at")));
  }

  private static Instant instant(String s) {
    try {
      return s == null || s.isEmpty() ? null : Instant.parse(s);
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
