package io.ephemera.api.error;

import static org.assertj.core.api.Assertions.assertThat;

import io.ephemera.apitest.ApiTestApplication;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.webmvc.test.autoconfigure.AutoConfigureMockMvc;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Bad requests of every kind, over real HTTP (so Tomcat and Boot's error forwarding take part,
 * which MockMvc would skip): each answers {@code application/problem+json} with its status and a
 * {@code type} of {@link ProblemType}, never a 500 and never Boot's default error JSON.
 */
@SpringBootTest(
    classes = ApiTestApplication.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureMockMvc
class ErrorsAreProblemsTest {
  private static final String API_TOKEN = "Bearer test-api-token";
  private static final String WEBHOOK_TOKEN = "test-webhook-token";
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @LocalServerPort int port;

  /** One bad request and the problem it must get. */
  record Bad(
      String name,
      String method,
      String path,
      String contentType,
      String body,
      String accept,
      boolean authed,
      ProblemType expected) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Bad> badRequests() {
    String big = "{\"object_kind\":\"push\",\"pad\":\"" + "x".repeat(70 * 1024) + "\"}";
    return Stream.of(
        new Bad(
            "unknown path under /api/v1",
            "GET",
            "/api/v1/nothing-here",
            null,
            null,
            null,
            true,
            ProblemType.NOT_FOUND),
        new Bad(
            "unknown path elsewhere",
            "GET",
            "/nothing-here",
            null,
            null,
            null,
            false,
            ProblemType.NOT_FOUND),
        new Bad(
            "unknown path under /api/v1 without a token",
            "GET",
            "/api/v1/nothing-here",
            null,
            null,
            null,
            false,
            ProblemType.UNAUTHORIZED),
        new Bad(
            "wrong method on the REST API",
            "DELETE",
            "/api/v1/review-apps/1/1",
            null,
            null,
            null,
            true,
            ProblemType.METHOD_NOT_ALLOWED),
        new Bad(
            "wrong method on the webhook",
            "GET",
            "/webhooks/gitlab",
            null,
            null,
            null,
            false,
            ProblemType.METHOD_NOT_ALLOWED),
        new Bad(
            "unsupported media type",
            "POST",
            "/api/v1/review-apps/1/1/extend",
            "text/plain",
            "PT1H",
            null,
            true,
            ProblemType.UNSUPPORTED_MEDIA_TYPE),
        new Bad(
            "unsupported media type on stop",
            "POST",
            "/api/v1/runners/1/1/stop",
            "application/xml",
            "<reason/>",
            null,
            true,
            ProblemType.UNSUPPORTED_MEDIA_TYPE),
        new Bad(
            "not acceptable",
            "GET",
            "/api/v1/review-apps",
            null,
            null,
            "text/html",
            true,
            ProblemType.NOT_ACCEPTABLE),
        new Bad(
            "malformed JSON body",
            "POST",
            "/api/v1/review-apps/1/1/extend",
            "application/json",
            "{\"duration\": ",
            null,
            true,
            ProblemType.MALFORMED_PAYLOAD),
        new Bad(
            "JSON body of the wrong shape",
            "POST",
            "/api/v1/review-apps/1/1/extend",
            "application/json",
            "[1, 2]",
            null,
            true,
            ProblemType.MALFORMED_PAYLOAD),
        new Bad(
            "missing body",
            "POST",
            "/api/v1/review-apps/1/1/extend",
            "application/json",
            null,
            null,
            true,
            ProblemType.MALFORMED_PAYLOAD),
        new Bad(
            "non-numeric path id",
            "GET",
            "/api/v1/review-apps/abc/1",
            null,
            null,
            null,
            true,
            ProblemType.INVALID_FIELD),
        new Bad(
            "non-numeric runner job id",
            "GET",
            "/api/v1/runners/1/abc",
            null,
            null,
            null,
            true,
            ProblemType.INVALID_FIELD),
        new Bad(
            "path id out of range",
            "GET",
            "/api/v1/runners/99999999999999999999/1",
            null,
            null,
            null,
            true,
            ProblemType.INVALID_FIELD),
        new Bad(
            "non-positive path id",
            "POST",
            "/api/v1/review-apps/0/1/stop",
            null,
            null,
            null,
            true,
            ProblemType.INVALID_FIELD),
        new Bad(
            "unknown phase",
            "GET",
            "/api/v1/runners?phase=NOPE",
            null,
            null,
            null,
            true,
            ProblemType.INVALID_FIELD),
        new Bad(
            "webhook without a token",
            "POST",
            "/webhooks/gitlab",
            "application/json",
            "{}",
            null,
            false,
            ProblemType.UNAUTHORIZED),
        new Bad(
            "webhook over the size limit",
            "POST",
            "/webhooks/gitlab",
            "application/json",
            big,
            null,
            false,
            ProblemType.PAYLOAD_TOO_LARGE),
        new Bad(
            "webhook body that is not JSON",
            "POST",
            "/webhooks/gitlab",
            "application/json",
            "not json",
            null,
            false,
            ProblemType.MALFORMED_PAYLOAD),
        new Bad(
            "Boot's error path asked directly",
            "GET",
            "/error",
            null,
            null,
            null,
            false,
            ProblemType.NOT_FOUND));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badRequests")
  void everyBadRequestIsAProblemOfAKnownTypeNeverA500(Bad bad) throws Exception {
    HttpResponse<String> response = HTTP.send(request(bad), BodyHandlers.ofString());

    assertThat(response.statusCode()).as("status").isEqualTo(bad.expected().status().value());
    assertThat(response.headers().firstValue("Content-Type"))
        .as("content type")
        .hasValueSatisfying(v -> assertThat(v).startsWith("application/problem+json"));
    JsonNode problem = JSON.readTree(response.body());
    assertThat(problem.path("type").asString())
        .isIn(Arrays.stream(ProblemType.values()).map(t -> t.uri().toString()).toList())
        .isEqualTo(bad.expected().uri().toString());
    assertThat(problem.path("title").asString()).isEqualTo(bad.expected().title());
    assertThat(problem.path("status").asInt()).isEqualTo(bad.expected().status().value());
    assertThat(problem.path("detail").asString()).isNotBlank();
  }

  private HttpRequest request(Bad bad) {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(URI.create("http://localhost:" + port + bad.path()))
            .method(
                bad.method(),
                bad.body() == null ? BodyPublishers.noBody() : BodyPublishers.ofString(bad.body()));
    if (bad.contentType() != null) {
      builder.header("Content-Type", bad.contentType());
    }
    if (bad.accept() != null) {
      builder.header("Accept", bad.accept());
    }
    if (bad.authed()) {
      builder.header("Authorization", API_TOKEN);
    }
    if (bad.path().startsWith("/webhooks/") && !bad.name().contains("without a token")) {
      builder.header("X-Gitlab-Token", WEBHOOK_TOKEN);
    }
    return builder.build();
  }
}
