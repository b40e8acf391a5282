package io.ephemera.api.error;

import io.ephemera.api.RequestBodyGuard;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.TypeMismatchException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.multipart.MultipartException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

/**
 * Turns every failure into RFC 9457 {@code application/problem+json} with a stable {@link
 * ProblemType}. Extending {@link ResponseEntityExceptionHandler} keeps Spring's own client errors
 * (wrong method, media type, unreadable body, bad path variable) at their 4xx instead of a 500, and
 * replaces Boot's default problem handler, which would otherwise answer them with {@code
 * about:blank}.
 */
@RestControllerAdvice
class ProblemHandler extends ResponseEntityExceptionHandler {
  private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);

  /** Seconds a client should wait before trying again after a 503. */
  static final String RETRY_AFTER_SECONDS = "10";

  @ExceptionHandler(ApiException.class)
  ResponseEntity<ProblemDetail> handleApi(ApiException e) {
    if (e.type().status().is5xxServerError()) {
      // The client gets the detail; operators need the underlying cause too.
      log.warn(
          "{}: {} (cause: {})",
          e.type().slug(),
          e.getMessage(),
          e.getCause() == null ? "none" : e.getCause().toString());
    }
    ProblemDetail problem = problem(e.type(), e.getMessage());
    e.properties().forEach(problem::setProperty);
    return ResponseEntity.status(e.type().status())
        .headers(e.headers())
        .contentType(MediaType.APPLICATION_PROBLEM_JSON)
        .body(problem);
  }

  /**
   * A body declared as multipart that cannot be parsed as such (no boundary, truncated parts).
   * Nothing here takes uploads; without this it would be an unexpected failure, a 500.
   */
  @ExceptionHandler(MultipartException.class)
  ResponseEntity<ProblemDetail> handleMultipart(MultipartException e) {
    log.debug("Unreadable multipart body: {}", e.toString());
    return ResponseEntity.status(ProblemType.MALFORMED_PAYLOAD.status())
        .contentType(MediaType.APPLICATION_PROBLEM_JSON)
        .body(
            problem(
                ProblemType.MALFORMED_PAYLOAD,
                "The request body is declared as multipart but is not valid multipart content;"
                    + " send application/json."));
  }

  @ExceptionHandler(Exception.class)
  ResponseEntity<ProblemDetail> handleUnexpected(Exception e) {
    if (TemporalErrors.isUnavailable(e)) {
      log.warn("Temporal did not answer: {}", e.toString());
      return ResponseEntity.status(ProblemType.TEMPORAL_UNAVAILABLE.status())
          .header(HttpHeaders.RETRY_AFTER, RETRY_AFTER_SECONDS)
          .contentType(MediaType.APPLICATION_PROBLEM_JSON)
          .body(
              problem(
                  ProblemType.TEMPORAL_UNAVAILABLE,
                  "Temporal did not answer in time; try again shortly."));
    }
    // The message and trace go to the log only: they may name internals the caller has no use for.
    log.error("Unexpected failure", e);
    return ResponseEntity.status(ProblemType.INTERNAL_ERROR.status())
        .contentType(MediaType.APPLICATION_PROBLEM_JSON)
        .body(problem(ProblemType.INTERNAL_ERROR, "Unexpected error; the server log has details."));
  }

  /** A body over {@code ephemera.api.max-body} is a 413, not the 400 of an unreadable one. */
  @Override
  protected ResponseEntity<Object> handleHttpMessageNotReadable(
      HttpMessageNotReadableException ex,
      HttpHeaders headers,
      HttpStatusCode status,
      WebRequest request) {
    boolean tooLarge =
        TemporalErrors.find(ex, RequestBodyGuard.BodyTooLargeException.class).isPresent();
    return super.handleHttpMessageNotReadable(
        ex, headers, tooLarge ? ProblemType.PAYLOAD_TOO_LARGE.status() : status, request);
  }

  @Override
  protected ResponseEntity<Object> handleExceptionInternal(
      Exception ex, Object body, HttpHeaders headers, HttpStatusCode status, WebRequest request) {
    // Set, not negotiated: content negotiation drops the body of an error response when the
    // Accept header cannot be parsed (Accept: ///), leaving a bare status. Problems always go out.
    HttpHeaders withType = new HttpHeaders();
    withType.putAll(headers);
    withType.setContentType(MediaType.APPLICATION_PROBLEM_JSON);
    ResponseEntity<Object> response =
        super.handleExceptionInternal(ex, body, withType, status, request);
    if (response != null && response.getBody() instanceof ProblemDetail problem) {
      ProblemType type = typeOf(ex, response.getStatusCode());
      problem.setType(type.uri());
      problem.setTitle(type.title());
      refine(ex, problem);
    }
    if (status.is5xxServerError()) {
      log.error("Request failed", ex);
    } else {
      log.debug("Client error {}: {}", status.value(), ex.toString());
    }
    return response;
  }

  private static ProblemType typeOf(Exception ex, HttpStatusCode status) {
    if (TemporalErrors.find(ex, RequestBodyGuard.BodyTooLargeException.class).isPresent()) {
      return ProblemType.PAYLOAD_TOO_LARGE;
    }
    if (ex instanceof HttpMessageNotReadableException) {
      return ProblemType.MALFORMED_PAYLOAD;
    }
    if (ex instanceof TypeMismatchException
        || ex instanceof MissingServletRequestParameterException) {
      return ProblemType.INVALID_FIELD;
    }
    return ProblemType.forStatus(status.value());
  }

  /** Spring's default details are generic; these say what to change. */
  private static void refine(Exception ex, ProblemDetail problem) {
    Optional<RequestBodyGuard.BodyTooLargeException> tooLarge =
        TemporalErrors.find(ex, RequestBodyGuard.BodyTooLargeException.class);
    Optional<RequestBodyGuard.BodyTimeoutException> tooSlow =
        TemporalErrors.find(ex, RequestBodyGuard.BodyTimeoutException.class);
    if (tooLarge.isPresent()) {
      problem.setDetail(tooLarge.get().getMessage());
      problem.setProperty("limit", tooLarge.get().limit());
    } else if (tooSlow.isPresent()) {
      problem.setDetail(tooSlow.get().getMessage());
    } else if (ex instanceof HttpMessageNotReadableException e) {
      String message = String.valueOf(e.getMessage());
      problem.setDetail(
          message.startsWith("Required request body is missing")
              ? "The request body is missing."
              : "The request body is not valid JSON of the expected shape.");
    } else if (ex instanceof MethodArgumentTypeMismatchException e) {
      String expected =
          e.getRequiredType() == null ? "of another type" : describe(e.getRequiredType());
      problem.setDetail("'" + e.getName() + "' must be " + expected + ".");
      problem.setProperty("field", e.getName());
    } else if (ex instanceof MissingServletRequestParameterException e) {
      problem.setProperty("field", e.getParameterName());
    } else if (ex instanceof HttpMediaTypeNotSupportedException e) {
      problem.setDetail(
          "Content-Type "
              + (e.getContentType() == null ? "(none)" : e.getContentType())
              + " is not supported here; send application/json.");
    }
  }

  private static String describe(Class<?> type) {
    if (type == long.class || type == Long.class || type == int.class || type == Integer.class) {
      return "a whole number";
    }
    return "a " + type.getSimpleName();
  }

  static ProblemDetail problem(ProblemType type, String detail) {
    ProblemDetail problem = ProblemDetail.forStatusAndDetail(type.status(), detail);
    problem.setType(type.uri());
    problem.setTitle(type.title());
    return problem;
  }
}
