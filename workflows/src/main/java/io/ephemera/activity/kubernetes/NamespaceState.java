package io.ephemera.activity.kubernetes;

import java.time.Instant;

/**
 * Whether a namespace is gone; if not, when its deletion started ({@code null} when it is not
 * terminating at all).
 */
public record NamespaceState(boolean gone, Instant terminatingSince) {
  public static NamespaceState goneNow() {
    return new NamespaceState(true, null);
  }
}
