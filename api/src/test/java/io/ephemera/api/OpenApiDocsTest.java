package io.ephemera.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

import io.ephemera.apitest.ApiTestApplication;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webmvc.test.autoconfigure.AutoConfigureMockMvc;
import org.springframework.test.web.servlet.MockMvc;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The OpenAPI document and the Swagger UI: open to all, and describing every operation. */
@SpringBootTest(
    classes = ApiTestApplication.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureMockMvc
class OpenApiDocsTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @Autowired MockMvc mvc;

  private JsonNode docs;

  @BeforeEach
  void fetchDocs() throws Exception {
    // No Authorization header: the document describes the API and holds no data.
    String body =
        mvc.perform(get("/v3/api-docs"))
            .andExpect(status().isOk())
            .andExpect(content().contentTypeCompatibleWith("application/json"))
            .andReturn()
            .getResponse()
            .getContentAsString();
    docs = JSON.readTree(body);
  }

  @Test
  void theDocumentIsOpenApi31WithTitleAndVersion() {
    assertThat(docs.path("openapi").asString()).startsWith("3.1");
    assertThat(docs.at("/info/title").asString()).isEqualTo("Ephemera API");
    assertThat(docs.at("/info/version").asString()).isNotBlank().doesNotContain("${");
    assertThat(docs.at("/info/description").asString()).contains("problem+json");
  }

  @Test
  void listsEveryReviewAppRunnerAndWebhookOperation() {
    assertThat(operations())
        .containsExactlyInAnyOrder(
            "GET /api/v1/review-apps",
            "GET /api/v1/review-apps/{projectId}/{iid}",
            "POST /api/v1/review-apps/{projectId}/{iid}/stop",
            "POST /api/v1/review-apps/{projectId}/{iid}/extend",
            "GET /api/v1/runners",
            "GET /api/v1/runners/{projectId}/{jobId}",
            "POST /api/v1/runners/{projectId}/{jobId}/stop",
            "POST /codec/decode",
            "POST /codec/encode",
            "GET /api/v1/reconciler",
            "POST /webhooks/gitlab");
  }

  @Test
  void everyApiOperationNeedsTheBearerSchemeAndTheWebhookNone() {
    assertThat(docs.at("/components/securitySchemes/bearer/type").asString()).isEqualTo("http");
    assertThat(docs.at("/components/securitySchemes/bearer/scheme").asString()).isEqualTo("bearer");
    // No document-wide requirement: it would apply to the webhook too.
    assertThat(docs.path("security").isMissingNode() || docs.path("security").isEmpty()).isTrue();
    docs.path("paths")
        .properties()
        .forEach(
            path ->
                path.getValue()
                    .properties()
                    .forEach(
                        op -> {
                          JsonNode security = op.getValue().path("security");
                          String name = op.getKey() + " " + path.getKey();
                          if (path.getKey().startsWith("/api/v1/")
                              || path.getKey().startsWith("/codec/")) {
                            assertThat(security.size()).as(name).isEqualTo(1);
                            assertThat(security.get(0).has("bearer")).as(name).isTrue();
                            assertThat(op.getValue().at("/responses/401").isMissingNode())
                                .as(name)
                                .isFalse();
                          } else {
                            assertThat(security.isArray() && security.isEmpty())
                                .as(name + " has no security requirement")
                                .isTrue();
                          }
                        }));
  }

  @Test
  void theWebhookDocumentsItsHeadersAndAnswers() {
    JsonNode webhook = docs.at("/paths/~1webhooks~1gitlab/post");
    List<String> headers = new ArrayList<>();
    webhook
        .path("parameters")
        .forEach(
            p -> {
              assertThat(p.path("in").asString()).isEqualTo("header");
              headers.add(p.path("name").asString());
            });
    assertThat(headers).containsExactly("X-Gitlab-Token", "X-Gitlab-Event", "Idempotency-Key");
    assertThat(names(webhook.path("responses"))).contains("202", "400", "401", "413", "503");
    assertThat(webhook.at("/responses/503/headers/Retry-After").isMissingNode()).isFalse();
    assertThat(webhook.at("/requestBody/content/application~1json").isMissingNode()).isFalse();
  }

  @Test
  void everyErrorAnswerIsProblemJson() {
    assertThat(docs.at("/components/schemas/Problem/properties/type").isMissingNode()).isFalse();
    docs.path("paths")
        .properties()
        .forEach(
            path ->
                path.getValue()
                    .properties()
                    .forEach(
                        op ->
                            op.getValue()
                                .path("responses")
                                .properties()
                                .forEach(
                                    response -> {
                                      String name =
                                          op.getKey()
                                              + " "
                                              + path.getKey()
                                              + " "
                                              + response.getKey();
                                      JsonNode content = response.getValue().path("content");
                                      if (response.getKey().matches("[45]\\d\\d")) {
                                        assertThat(names(content))
                                            .as(name)
                                            .containsExactly("application/problem+json");
                                        assertThat(
                                                content
                                                    .at("/application~1problem+json/schema/$ref")
                                                    .asString())
                                            .as(name)
                                            .isEqualTo("#/components/schemas/Problem");
                                      } else {
                                        assertThat(names(content)).as(name).doesNotContain("*/*");
                                      }
                                    })));
  }

  @Test
  void theSwaggerUiIsServedWithoutAToken() throws Exception {
    mvc.perform(get("/swagger-ui.html")).andExpect(status().is3xxRedirection());
    mvc.perform(get("/swagger-ui/index.html"))
        .andExpect(status().isOk())
        .andExpect(content().contentTypeCompatibleWith("text/html"));
    mvc.perform(get("/v3/api-docs/swagger-config")).andExpect(status().isOk());
    mvc.perform(get("/v3/api-docs.yaml"))
        .andExpect(status().isOk())
        .andExpect(content().string(org.hamcrest.Matchers.containsString("title: Ephemera API")));
  }

  private List<String> operations() {
    List<String> ops = new ArrayList<>();
    docs.path("paths")
        .properties()
        .forEach(
            path ->
                path.getValue()
                    .properties()
                    .forEach(op -> ops.add(op.getKey().toUpperCase() + " " + path.getKey())));
    return ops;
  }

  private static List<String> names(JsonNode object) {
    List<String> names = new ArrayList<>();
    object.properties().forEach(e -> names.add(e.getKey()));
    return names;
  }
}
