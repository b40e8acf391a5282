package io.ephemera.api;

import io.ephemera.api.error.ProblemType;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.headers.Header;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import io.swagger.v3.oas.models.servers.Server;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The OpenAPI document at {@code /v3/api-docs} (Swagger UI at {@code /swagger-ui.html}); neither is
 * under {@code /api/**}, so neither needs the bearer token: they describe the API, they hold no
 * data.
 *
 * <p>Controllers say, with {@code @Operation} and {@code @ApiResponse}, what each operation does
 * and when it fails. What every operation shares is added here, after the scan, so that controllers
 * stay short and the shared parts cannot drift apart:
 *
 * <ul>
 *   <li>the {@value #BEARER} security scheme, required by every operation under {@link
 *       #BEARER_PATHS} (the paths {@code BearerTokenInterceptor} guards) and by no other;
 *   <li>a {@code 401} on those operations, and a {@code 500} on every operation;
 *   <li>{@code application/problem+json} content, with the {@value #PROBLEM} schema, on every 4xx
 *       and 5xx response (springdoc would otherwise describe them with the method's return type).
 *       Controllers declare error responses with a description only.
 * </ul>
 */
@Configuration(proxyBeanMethods = false)
public class OpenApiConfiguration {
  /** Name of the bearer security scheme in the document. */
  public static final String BEARER = "bearer";

  /** Path prefixes of the operations that need the bearer token (see ApiWebConfiguration). */
  static final List<String> BEARER_PATHS = List.of("/api/", "/codec/");

  /** Name of the RFC 9457 problem schema in the document. */
  public static final String PROBLEM = "Problem";

  static final String PROBLEM_JSON =
      org.springframework.http.MediaType.APPLICATION_PROBLEM_JSON_VALUE;

  private static final String DESCRIPTION =
      """
      Ephemera turns GitLab webhooks into durable Temporal workflows that own ephemeral CI \
      infrastructure: one review-app environment per merge request, one single-use runner per CI \
      job.

      * `POST /webhooks/gitlab` receives GitLab's *Merge request* and *Job* events; it is \
      authenticated by the webhook's secret token (`X-Gitlab-Token`), not by a bearer token.
      * `/api/v1/review-apps` and `/api/v1/runners` read and stop what the workflows own; every \
      call needs `Authorization: Bearer <token>` (one of `ephemera.api.tokens`).
      * `POST /codec/decode` and `POST /codec/encode` are a Temporal codec server for the Temporal \
      UI and CLI (payload encryption, `ephemera.codec.*`); same bearer token.

      Every error is RFC 9457 `application/problem+json`; clients branch on its `type`, a stable \
      URI under `%s`.
      """
          .formatted(ProblemType.BASE);

  @Bean
  OpenAPI ephemeraOpenApi() {
    return new OpenAPI()
        // Relative: the document and the UI work on whatever host and port serve them.
        .servers(List.of(new Server().url("/")))
        .info(new Info().title("Ephemera API").version(buildVersion()).description(DESCRIPTION))
        .components(
            new Components()
                .addSecuritySchemes(
                    BEARER,
                    new SecurityScheme()
                        .type(SecurityScheme.Type.HTTP)
                        .scheme("bearer")
                        .description("One of the tokens in `ephemera.api.tokens`.")));
  }

  /** Runs after the controllers are scanned: the shared parts described in the class comment. */
  @Bean
  OpenApiCustomizer ephemeraCommonResponses() {
    return openApi -> {
      // Here, not on the bean: springdoc drops component schemas nothing refers to yet.
      openApi.schema(PROBLEM, problemSchema());
      if (openApi.getPaths() == null) {
        return;
      }
      openApi
          .getPaths()
          .forEach(
              (path, item) ->
                  item.readOperations().forEach(operation -> complete(path, operation)));
    };
  }

  private static void complete(String path, Operation operation) {
    ApiResponses responses = operation.getResponses();
    if (responses == null) {
      responses = new ApiResponses();
      operation.setResponses(responses);
    }
    if (BEARER_PATHS.stream().anyMatch(path::startsWith)) {
      operation.setSecurity(List.of(new SecurityRequirement().addList(BEARER)));
      responses.putIfAbsent(
          "401",
          new ApiResponse()
              .description(
                  "No `Authorization: Bearer` header, or a token that is not one of"
                      + " `ephemera.api.tokens` ("
                      + slug(ProblemType.UNAUTHORIZED)
                      + ").")
              .addHeaderObject(
                  "WWW-Authenticate",
                  new Header()
                      .description("Always `Bearer`.")
                      .schema(new StringSchema()._const("Bearer"))));
    } else {
      // Explicitly none: an empty list overrides any document-wide requirement.
      operation.setSecurity(List.of());
    }
    responses.putIfAbsent(
        "500",
        new ApiResponse()
            .description(
                "An unexpected failure ("
                    + slug(ProblemType.INTERNAL_ERROR)
                    + "); the details"
                    + " are in the server log only."));
    // springdoc gives every declared response the method's return type; an error is a problem.
    responses.forEach(
        (code, response) -> {
          if (isError(code) && response.get$ref() == null) {
            response.setContent(problemContent());
          }
        });
  }

  private static boolean isError(String code) {
    return code.length() == 3 && (code.charAt(0) == '4' || code.charAt(0) == '5');
  }

  private static String slug(ProblemType type) {
    return "`" + type.slug() + "`";
  }

  private static Content problemContent() {
    return new Content()
        .addMediaType(
            PROBLEM_JSON,
            new MediaType().schema(new Schema<>().$ref("#/components/schemas/" + PROBLEM)));
  }

  /** RFC 9457's members, with {@code type} limited to the URIs of {@link ProblemType}. */
  private static Schema<?> problemSchema() {
    // Listed, not an enum: a client generated from this document must not break on a type added
    // later.
    StringSchema type = new StringSchema();
    type.format("uri")
        .description(
            "What went wrong; stable, so clients branch on it. One of: "
                + Arrays.stream(ProblemType.values())
                    .map(t -> "`" + t.uri() + "`")
                    .collect(Collectors.joining(", "))
                + ".");
    return new ObjectSchema()
        .description("An RFC 9457 problem detail.")
        .addProperty("type", type)
        .addProperty("title", new StringSchema().description("Short summary of the type."))
        .addProperty(
            "status",
            new IntegerSchema()
                .minimum(BigDecimal.valueOf(400))
                .maximum(BigDecimal.valueOf(599))
                .description("The HTTP status, repeated."))
        .addProperty(
            "detail",
            new StringSchema().description("What happened to this request and what to change."))
        .addProperty(
            "instance", new StringSchema().format("uri-reference").description("The request path."))
        .addProperty(
            "field",
            new StringSchema()
                .description(
                    "The offending body field, header, path or query parameter, when there is"
                        + " one."))
        .addProperty(
            "limit",
            new IntegerSchema()
                .format("int64")
                .description("The size limit in bytes (payload-too-large)."))
        .required(List.of("type", "title", "status"));
  }

  /** The Maven project version, filtered into {@code build.properties}; "dev" when run unbuilt. */
  static String buildVersion() {
    try (InputStream in = OpenApiConfiguration.class.getResourceAsStream("build.properties")) {
      if (in == null) {
        return "dev";
      }
      Properties properties = new Properties();
      properties.load(in);
      String version = properties.getProperty("version", "dev");
      return version.startsWith("${") ? "dev" : version;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
