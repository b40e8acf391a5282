package io.ephemera.api.error;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.servlet.RequestDispatcher;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.mock.web.MockHttpServletRequest;

/** Errors the container forwards to {@code /error} (MockMvc cannot forward, so called directly). */
class ProblemErrorControllerTest {
  private final ProblemErrorController controller = new ProblemErrorController();

  @Test
  void aForwardedClientErrorKeepsItsStatusAndGetsItsType() {
    MockHttpServletRequest request = forwarded(415, null);

    ResponseEntity<ProblemDetail> response = controller.error(request);

    assertThat(response.getStatusCode().value()).isEqualTo(415);
    assertThat(response.getHeaders().getContentType())
        .isEqualTo(MediaType.APPLICATION_PROBLEM_JSON);
    assertThat(response.getBody().getType()).isEqualTo(ProblemType.UNSUPPORTED_MEDIA_TYPE.uri());
    assertThat(response.getBody().getInstance()).hasToString("/api/v1/review-apps");
  }

  @Test
  void aForwardedFailureIsAnInternalErrorThatNamesNothingInternal() {
    MockHttpServletRequest request =
        forwarded(500, new IllegalStateException("secret-ish internals"));

    ResponseEntity<ProblemDetail> response = controller.error(request);

    assertThat(response.getStatusCode().value()).isEqualTo(500);
    assertThat(response.getBody().getType()).isEqualTo(ProblemType.INTERNAL_ERROR.uri());
    assertThat(response.getBody().getDetail()).doesNotContain("secret-ish");
  }

  @Test
  void anUncommonClientStatusIsABadRequestProblemWithThatStatus() {
    ResponseEntity<ProblemDetail> response = controller.error(forwarded(431, null));

    assertThat(response.getStatusCode().value()).isEqualTo(431);
    assertThat(response.getBody().getStatus()).isEqualTo(431);
    assertThat(response.getBody().getType()).isEqualTo(ProblemType.BAD_REQUEST.uri());
  }

  private static MockHttpServletRequest forwarded(int status, Throwable failure) {
    MockHttpServletRequest request = new MockHttpServletRequest("GET", "/error");
    request.setAttribute(RequestDispatcher.ERROR_STATUS_CODE, status);
    request.setAttribute(RequestDispatcher.ERROR_REQUEST_URI, "/api/v1/review-apps");
    if (failure != null) {
      request.setAttribute(RequestDispatcher.ERROR_EXCEPTION, failure);
    }
    return request;
  }
}
