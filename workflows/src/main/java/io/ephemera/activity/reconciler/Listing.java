package io.ephemera.activity.reconciler;

import java.util.List;
import java.util.Map;

/**
 * What one listing found: counts of everything it paged through, and only the orphan candidates
 * (never the resources themselves, so the answer stays small whatever the source holds).
 *
 * @param complete every page was read and every owner answered; only then may candidates be reaped
 * @param live managed resources seen (with an owner label, tag or description)
 * @param ownedByRunning of those, owned by a running workflow
 * @param young of the others, younger than the grace period
 * @param orphans candidates found, including those beyond {@code candidates}
 * @param oldestAgeSeconds age of the oldest live resource, null when none or unknown
 * @param largestPage most items any one page held: what "bounded by the page size" is checked by
 * @param errors source → what failed ({@code kubernetes}, {@code temporal}, ...); empty when
 *     complete
 */
public record Listing(
    String kind,
    boolean complete,
    long live,
    long ownedByRunning,
    long young,
    long orphans,
    Long oldestAgeSeconds,
    int pages,
    int largestPage,
    List<Orphan> candidates,
    Map<String, String> errors) {
  public Listing {
    candidates = candidates == null ? List.of() : List.copyOf(candidates);
    errors = errors == null ? Map.of() : Map.copyOf(errors);
  }
}
