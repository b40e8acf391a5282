package io.ephemera.api;

import io.ephemera.api.error.ApiException;

/**
 * The reason given to a {@code POST .../stop}: it is carried in workflow history and shown in
 * status, so it is bounded; without one, the endpoint's default says who stopped it.
 */
public final class StopReason {
  public static final int MAX = 500;

  private StopReason() {}

  /**
   * @param given the body's {@code reason}, possibly null or blank
   * @throws ApiException 400 {@code invalid-field} when it is longer than {@link #MAX}
   */
  public static String of(String given, String defaultReason) {
    String reason = given == null ? "" : given.strip();
    if (reason.length() > MAX) {
      throw ApiException.invalidField("reason", "reason must be at most " + MAX + " characters.");
    }
    return reason.isEmpty() ? defaultReason : reason;
  }
}
