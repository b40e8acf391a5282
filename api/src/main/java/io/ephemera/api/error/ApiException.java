package io.ephemera.api.error;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.http.HttpHeaders;

/**
 * A failure with a known answer: {@link ProblemHandler} turns it into an {@code
 * application/problem+json} response of its {@link ProblemType}. The detail is shown to the client,
 * so it never carries a secret or a request body.
 */
public class ApiException extends RuntimeException {
  private final ProblemType type;
  private final Map<String, Object> properties = new LinkedHashMap<>();
  private final HttpHeaders headers = new HttpHeaders();

  public ApiException(ProblemType type, String detail) {
    this(type, detail, null);
  }

  public ApiException(ProblemType type, String detail, Throwable cause) {
    // No stack trace: these are expected answers, often to untrusted callers, and cheap matters.
    super(detail, cause, false, false);
    this.type = type;
  }

  /** An invalid field of a request; the field name is also a problem property. */
  public static ApiException invalidField(String field, String detail) {
    return new ApiException(ProblemType.INVALID_FIELD, detail).with("field", field);
  }

  public static ApiException notFound(String detail) {
    return new ApiException(ProblemType.NOT_FOUND, detail);
  }

  public ApiException with(String property, Object value) {
    properties.put(property, value);
    return this;
  }

  public ApiException withHeader(String name, String value) {
    headers.set(name, value);
    return this;
  }

  public ProblemType type() {
    return type;
  }

  public Map<String, Object> properties() {
    return Collections.unmodifiableMap(properties);
  }

  public HttpHeaders headers() {
    return HttpHeaders.readOnlyHttpHeaders(headers);
  }
}
