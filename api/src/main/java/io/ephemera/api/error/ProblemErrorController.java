package io.ephemera.api.error;

import io.swagger.v3.oas.annotations.Hidden;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Boot's error path ({@code /error}), for the failures {@link ProblemHandler} never sees: an error
 * the container forwards here (a {@code sendError} or exception outside Spring MVC's handler chain,
 * e.g. in a servlet filter), and a client asking for {@code /error} itself. Replaces Boot's {@code
 * BasicErrorController}, whose {@code {"timestamp", "error", ...}} JSON is not a problem and which
 * answers a direct request with a 500.
 */
@Hidden
@RestController
class ProblemErrorController implements ErrorController {
  private static final Logger log = LoggerFactory.getLogger(ProblemErrorController.class);

  @RequestMapping("${server.error.path:${error.path:/error}}")
  ResponseEntity<ProblemDetail> error(HttpServletRequest request) {
    Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
    // Asked for directly, no error happened: there is simply nothing at this path.
    int status = code instanceof Integer i && i >= 400 ? i : 404;
    ProblemType type = ProblemType.forStatus(status);
    Object failure = request.getAttribute(RequestDispatcher.ERROR_EXCEPTION);
    if (status >= 500) {
      log.error(
          "Request to {} failed outside Spring MVC with {}",
          request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI),
          status,
          failure instanceof Throwable t ? t : null);
    }
    ProblemDetail problem =
        ProblemHandler.problem(
            type,
            code == null
                ? "Nothing is served at this path."
                : type.status().is5xxServerError()
                    ? "Unexpected error; the server log has details."
                    : "The request was refused before it reached the API: " + type.title() + ".");
    // The status of the original request, which may differ from the type's usual one.
    problem.setStatus(status);
    Object uri = request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI);
    try {
      problem.setInstance(URI.create(uri instanceof String s ? s : request.getRequestURI()));
    } catch (IllegalArgumentException e) {
      // A path the container let through but java.net.URI refuses: no instance then.
    }
    return ResponseEntity.status(status)
        .contentType(MediaType.APPLICATION_PROBLEM_JSON)
        .body(problem);
  }
}
