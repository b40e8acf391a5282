package io.ephemera.activity.vault;

import io.ephemera.common.FailureType;
import io.temporal.failure.ApplicationFailure;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The one place Vault's answers become typed failures. Messages name the operation, the path and
 * Ephemera's Vault identity (role and auth mount), and quote at most Vault's own short error texts;
 * never a token, a secret id or a secret value. No driver exception is attached as cause, since the
 * driver puts whole response bodies into its messages.
 *
 * <ul>
 *   <li>403 → {@code VaultForbidden} (non-retryable): a policy must change first.
 *   <li>404, or a 400 saying the role is unknown or no handler serves the route → {@code
 *       VaultRoleMissing} (non-retryable).
 *   <li>Other 4xx except 412 and 429 → {@code VaultInvalid} (non-retryable).
 *   <li>412, 429, 5xx (sealed, standby without a leader), no answer → {@code VaultUnavailable}
 *       (retried with backoff).
 * </ul>
 */
final class VaultErrors {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final int MAX_ERROR_TEXT = 200;

  private VaultErrors() {}

  /**
   * @param operation e.g. {@code read}, {@code login}
   * @param identity Ephemera's Vault identity, as {@link VaultSession#identity()} describes it
   */
  static ApplicationFailure of(
      int status, byte[] body, String operation, String path, String identity) {
    List<String> errors = errors(body);
    String vaultSays = errors.isEmpty() ? "" : " (Vault: " + quote(errors) + ")";
    String what = operation + " of " + path;
    if (status == 403) {
      return FailureType.VaultForbidden.failure(
          "Vault denied "
              + what
              + vaultSays
              + " to "
              + identity
              + ": its policy must allow this path, or the login has expired and could not be"
              + " renewed");
    }
    if (status == 404 || (status == 400 && roleMissing(errors))) {
      return FailureType.VaultRoleMissing.failure(
          "Vault has no "
              + path
              + vaultSays
              + " for "
              + what
              + " by "
              + identity
              + ": the secrets engine, role, auth role or secret does not exist");
    }
    if (status == 412 || status == 429 || status >= 500 || status <= 0) {
      return unavailable(what, identity, status, errors);
    }
    return FailureType.VaultInvalid.failure(
        "Vault rejected " + what + " by " + identity + " (HTTP " + status + ")" + vaultSays);
  }

  static ApplicationFailure unreachable(String operation, String path, String identity) {
    return unavailable(operation + " of " + path, identity, 0, List.of());
  }

  /** An answer that lacks what was asked for (e.g. a registry secret without a password). */
  static ApplicationFailure incomplete(String path, String kind, String missing) {
    return FailureType.VaultInvalid.failure(
        "Vault's answer for "
            + kind
            + " at "
            + path
            + " lacks "
            + missing
            + ": store the keys the credential needs at that path");
  }

  private static ApplicationFailure unavailable(
      String what, String identity, int status, List<String> errors) {
    String reason;
    if (status <= 0) {
      reason = "Vault could not be reached";
    } else if (errors.stream().anyMatch(e -> e.toLowerCase(Locale.ROOT).contains("sealed"))) {
      reason = "Vault is sealed (HTTP " + status + ")";
    } else if (status == 429) {
      reason = "Vault is rate limiting or a standby without an active node (HTTP 429)";
    } else {
      reason = "Vault answered HTTP " + status;
    }
    return FailureType.VaultUnavailable.failure(
        what
            + " by "
            + identity
            + " failed: "
            + reason
            + (errors.isEmpty() ? "" : " (Vault: " + quote(errors) + ")")
            + "; retrying");
  }

  static boolean roleMissing(List<String> errors) {
    for (String e : errors) {
      String s = e.toLowerCase(Locale.ROOT);
      if (s.contains("unknown role")
          || s.contains("no handler for route")
          || s.contains("invalid role name")
          || (s.contains("role") && s.contains("not found"))) {
        return true;
      }
    }
    return false;
  }

  /** Whether an error answer means "no such lease": revoking it again is success. */
  static boolean leaseGone(int status, byte[] body) {
    if (status != 400 && status != 404) {
      return false;
    }
    for (String e : errors(body)) {
      String s = e.toLowerCase(Locale.ROOT);
      if (s.contains("lease") && (s.contains("not found") || s.contains("invalid"))) {
        return true;
      }
    }
    return status == 404;
  }

  /** Vault's {@code {"errors": [...]}} texts; empty when the body is not that shape. */
  static List<String> errors(byte[] body) {
    List<String> out = new ArrayList<>();
    if (body == null || body.length == 0) {
      return out;
    }
    try {
      JsonNode node = JSON.readTree(new String(body, StandardCharsets.UTF_8));
      JsonNode errors = node == null ? null : node.get("errors");
      if (errors != null && errors.isArray()) {
        for (JsonNode e : errors) {
          if (e.isString()) {
            out.add(e.asString());
          }
        }
      }
    } catch (RuntimeException e) {
      // Not JSON (a proxy's HTML page): the status alone has to do.
    }
    return out;
  }

  private static String quote(List<String> errors) {
    String joined = String.join("; ", errors).replaceAll("\\s+", " ").trim();
    return joined.length() > MAX_ERROR_TEXT ? joined.substring(0, MAX_ERROR_TEXT) + "…" : joined;
  }
}
