package io.ephemera.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.List;

/**
 * Checks a presented secret against the configured ones without leaking, through timing, which one
 * matched or how much of it: every configured token is compared, each time, on SHA-256 digests so
 * that even the token length does not show.
 */
public final class TokenMatcher {
  private final List<byte[]> digests;

  private TokenMatcher(List<byte[]> digests) {
    this.digests = digests;
  }

  /** Blank entries are dropped: an empty token must never let an empty header in. */
  public static TokenMatcher of(Collection<String> tokens) {
    List<byte[]> digests =
        tokens == null
            ? List.of()
            : tokens.stream()
                .filter(t -> t != null && !t.isBlank())
                .map(t -> sha256(t.strip()))
                .toList();
    return new TokenMatcher(digests);
  }

  /** True when no token is configured: then nothing matches, ever. */
  public boolean isEmpty() {
    return digests.isEmpty();
  }

  public boolean matches(String presented) {
    if (presented == null || digests.isEmpty()) {
      return false;
    }
    byte[] candidate = sha256(presented);
    boolean match = false;
    for (byte[] digest : digests) {
      // No early exit: the time taken does not depend on which token, if any, matched.
      match |= MessageDigest.isEqual(digest, candidate);
    }
    return match;
  }

  private static byte[] sha256(String value) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK ships SHA-256", e);
    }
  }
}
