package io.ephemera.api.error;

import java.net.URI;
import org.springframework.http.HttpStatus;

/**
 * Every failure the api answers, with its stable RFC 9457 {@code type} URI. Clients branch on the
 * URI, so a published one is never renamed.
 */
public enum ProblemType {
  UNAUTHORIZED("unauthorized", "Unauthorized", HttpStatus.UNAUTHORIZED),
  PAYLOAD_TOO_LARGE("payload-too-large", "Payload too large", HttpStatus.CONTENT_TOO_LARGE),
  MALFORMED_PAYLOAD("malformed-payload", "Malformed payload", HttpStatus.BAD_REQUEST),
  INVALID_FIELD("invalid-field", "Invalid field", HttpStatus.BAD_REQUEST),
  INVALID_DURATION("invalid-duration", "Invalid duration", HttpStatus.BAD_REQUEST),
  UPDATE_REJECTED("update-rejected", "Update rejected", HttpStatus.BAD_REQUEST),
  BAD_REQUEST("bad-request", "Bad request", HttpStatus.BAD_REQUEST),
  NOT_FOUND("not-found", "Not found", HttpStatus.NOT_FOUND),
  /** {@code /codec/**} while {@code ephemera.codec.enabled} is false: there is nothing to serve. */
  CODEC_DISABLED("codec-disabled", "Codec disabled", HttpStatus.NOT_FOUND),
  /** An encrypted payload the codec cannot read: unknown key id, or failed authentication. */
  PAYLOAD_CODEC_FAILED("payload-codec-failed", "Payload codec failed", HttpStatus.BAD_REQUEST),
  /** A cross-origin request from an origin not in {@code ephemera.codec.cors-origins}. */
  ORIGIN_NOT_ALLOWED("origin-not-allowed", "Origin not allowed", HttpStatus.FORBIDDEN),
  METHOD_NOT_ALLOWED("method-not-allowed", "Method not allowed", HttpStatus.METHOD_NOT_ALLOWED),
  NOT_ACCEPTABLE("not-acceptable", "Not acceptable", HttpStatus.NOT_ACCEPTABLE),
  UNSUPPORTED_MEDIA_TYPE(
      "unsupported-media-type", "Unsupported media type", HttpStatus.UNSUPPORTED_MEDIA_TYPE),
  TEMPORAL_UNAVAILABLE(
      "temporal-unavailable", "Temporal unavailable", HttpStatus.SERVICE_UNAVAILABLE),
  /** The runner routing table (a file, DynamoDB) could not be read: nothing was started. */
  ROUTING_UNAVAILABLE("routing-unavailable", "Routing unavailable", HttpStatus.SERVICE_UNAVAILABLE),
  /** The reconciler workflow is not running (disabled, or no worker has started it yet). */
  RECONCILER_NOT_RUNNING(
      "reconciler-not-running", "Reconciler not running", HttpStatus.SERVICE_UNAVAILABLE),
  INTERNAL_ERROR("internal-error", "Internal error", HttpStatus.INTERNAL_SERVER_ERROR);

  public static final String BASE = "https://ephemera.io/problems/";

  private final String slug;
  private final URI uri;
  private final String title;
  private final HttpStatus status;

  ProblemType(String slug, String title, HttpStatus status) {
    this.slug = slug;
    this.uri = URI.create(BASE + slug);
    this.title = title;
    this.status = status;
  }

  /** The last segment of the URI, e.g. {@code payload-too-large}; handy in log lines. */
  public String slug() {
    return slug;
  }

  public URI uri() {
    return uri;
  }

  public String title() {
    return title;
  }

  public HttpStatus status() {
    return status;
  }

  /** The type for a status Spring chose by itself, when no more specific one applies. */
  static ProblemType forStatus(int status) {
    return switch (status) {
      case 401 -> UNAUTHORIZED;
      case 404 -> NOT_FOUND;
      case 405 -> METHOD_NOT_ALLOWED;
      case 406 -> NOT_ACCEPTABLE;
      case 413 -> PAYLOAD_TOO_LARGE;
      case 415 -> UNSUPPORTED_MEDIA_TYPE;
      case 503 -> TEMPORAL_UNAVAILABLE;
      default -> status >= 400 && status < 500 ? BAD_REQUEST : INTERNAL_ERROR;
    };
  }
}
