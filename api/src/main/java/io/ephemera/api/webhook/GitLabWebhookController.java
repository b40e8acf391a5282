package io.ephemera.api.webhook;

import io.ephemera.api.Bounded;
import io.ephemera.api.TokenMatcher;
import io.ephemera.api.error.ApiException;
import io.ephemera.api.error.ProblemType;
import io.ephemera.api.error.TemporalErrors;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code POST /webhooks/gitlab}: authenticates a GitLab delivery, bounds and parses it, and hands
 * merge request events to {@link WebhookRouter}. Checks run cheapest and most trusted first: token,
 * size, JSON, fields; a delivery failing any of them starts nothing.
 *
 * <p>The body is read here, not by Spring: a message converter would buffer a body of any size
 * before the limit could be applied.
 */
@RestController
@Tag(name = "GitLab webhook", description = "Merge request events and Job events from GitLab.")
class GitLabWebhookController {
  private static final Logger log = LoggerFactory.getLogger(GitLabWebhookController.class);

  static final String TOKEN_HEADER = "X-Gitlab-Token";
  static final String EVENT_HEADER = "X-Gitlab-Event";
  static final String IDEMPOTENCY_HEADER = "Idempotency-Key";
  static final String MERGE_REQUEST_HOOK = "Merge Request Hook";
  static final String JOB_HOOK = "Job Hook";

  static final String TEMPORAL_DOWN =
      "Temporal could not record this delivery; GitLab will not retry automatically — redeliver"
          + " it from the webhook's Recent events once Ephemera is healthy.";

  /** Long enough for a job name and its tags in an "ignored" outcome. */
  private static final int MAX_OUTCOME = 400;

  /** Visible ASCII only: the key goes into workflow history and log lines. */
  private static final Pattern KEY = Pattern.compile("[\\x21-\\x7E]{1,255}");

  private final WebhookProperties properties;
  private final WebhookRouter router;
  private final JobRouter jobRouter;
  private final JsonMapper json;
  private final TokenMatcher tokens;
  private final WebhookMetrics metrics;

  GitLabWebhookController(
      WebhookProperties properties, WebhookRouter router, JobRouter jobRouter, JsonMapper json) {
    this(properties, router, jobRouter, json, new WebhookMetrics(new SimpleMeterRegistry()));
  }

  @Autowired
  GitLabWebhookController(
      WebhookProperties properties,
      WebhookRouter router,
      JobRouter jobRouter,
      JsonMapper json,
      WebhookMetrics metrics) {
    this.metrics = metrics;
    this.properties = properties;
    this.router = router;
    this.jobRouter = jobRouter;
    this.json = json;
    this.tokens = TokenMatcher.of(properties.webhookToken());
  }

  @PostMapping(path = "/webhooks/gitlab", produces = MediaType.APPLICATION_JSON_VALUE)
  @Operation(
      operationId = "receiveGitLabWebhook",
      summary = "Receive a GitLab webhook delivery",
      description =
          "Checks the token, the size, the JSON and the fields, in that order; a delivery failing"
              + " one starts nothing. Merge request events start, deploy or stop review apps;"
              + " Job events start runners and tell them about their job; other events are"
              + " acknowledged and ignored. Signals and starts only: needs the Temporal server,"
              + " never a worker.",
      requestBody =
          @io.swagger.v3.oas.annotations.parameters.RequestBody(
              required = true,
              description =
                  "The delivery as GitLab sends it (a Merge Request Hook or Job Hook payload),"
                      + " at most `ephemera.gitlab.max-payload` bytes.",
              content =
                  @Content(
                      mediaType = MediaType.APPLICATION_JSON_VALUE,
                      schema = @Schema(type = "object"))))
  @ApiResponse(
      responseCode = "202",
      description = "Recorded in Temporal (`accepted`), or acknowledged and dropped (`ignored`).")
  @ApiResponse(
      responseCode = "400",
      description =
          "Not a JSON object (`malformed-payload`), or a missing or wrong field or header"
              + " (`invalid-field`, with `field`).")
  @ApiResponse(
      responseCode = "401",
      description = "`X-Gitlab-Token` missing or wrong, or no webhook token configured.")
  @ApiResponse(
      responseCode = "413",
      description =
          "Larger than `ephemera.gitlab.max-payload` (`payload-too-large`, with `limit`).")
  @ApiResponse(
      responseCode = "503",
      description =
          "Temporal could not record the delivery (`temporal-unavailable`) or the runner routing"
              + " table could not be read (`routing-unavailable`); redeliver later.",
      headers =
          @Header(
              name = HttpHeaders.RETRY_AFTER,
              description = "Seconds to wait.",
              schema = @Schema(type = "integer")))
  ResponseEntity<WebhookResponse> receive(
      @Parameter(description = "The webhook's secret token (`ephemera.gitlab.webhook-token`).")
          @RequestHeader(name = TOKEN_HEADER, required = false)
          String token,
      @Parameter(
              description =
                  "GitLab's event name, e.g. `Merge Request Hook`, `Job Hook`; read only when the"
                      + " body has no `object_kind`.")
          @RequestHeader(name = EVENT_HEADER, required = false)
          String eventHeader,
      @Parameter(
              description =
                  "GitLab's delivery id, kept across retries (1 to 255 visible ASCII characters);"
                      + " without it the body's SHA-256 stands in.")
          @RequestHeader(name = IDEMPOTENCY_HEADER, required = false)
          String idempotencyKey,
      @Parameter(hidden = true) HttpServletRequest request) {
    DeliveryLog delivery = new DeliveryLog(eventHeader, idempotencyKey);
    long started = System.nanoTime();
    String outcome = "error";
    try {
      authenticate(token);
      byte[] body = readBounded(request);
      JsonNode root = parse(body);
      WebhookResponse response = handle(root, eventHeader, idempotencyKey, body, delivery);
      delivery.outcome = response.outcome();
      outcome = response.accepted() != null ? "accepted" : "ignored";
      countStart(response);
      return ResponseEntity.accepted().body(response);
    } catch (ApiException e) {
      delivery.outcome = "rejected (" + e.type().slug() + ")";
      outcome = e.type().slug();
      throw e;
    } catch (RuntimeException e) {
      if (TemporalErrors.isUnavailable(e)) {
        delivery.outcome = "rejected (" + ProblemType.TEMPORAL_UNAVAILABLE.slug() + ")";
        outcome = ProblemType.TEMPORAL_UNAVAILABLE.slug();
        throw temporalDown(e);
      }
      delivery.outcome = "failed (" + e.getClass().getSimpleName() + ")";
      throw e;
    } finally {
      delivery.write();
      metrics.delivered(
          WebhookMetrics.event(delivery.kind, eventHeader),
          outcome,
          Duration.ofNanos(System.nanoTime() - started));
    }
  }

  /** A deploy is a signal-with-start of the review app; a runner answer is a runner's start. */
  private void countStart(WebhookResponse response) {
    if ("deploy".equals(response.accepted())) {
      metrics.workflowStarted("review-app");
    } else if ("runner".equals(response.accepted())) {
      metrics.workflowStarted("runner");
    }
  }

  private WebhookResponse handle(
      JsonNode root, String eventHeader, String idempotencyKey, byte[] body, DeliveryLog delivery) {
    JsonNode kindNode = root.get("object_kind");
    String kind = kindNode != null && kindNode.isString() ? kindNode.stringValue() : null;
    delivery.kind = kind;
    if (kind == null) {
      // Without object_kind the header is all there is; only a hook we act on is worth a 400.
      if (eventHeader != null
          && !MERGE_REQUEST_HOOK.equalsIgnoreCase(eventHeader.strip())
          && !JOB_HOOK.equalsIgnoreCase(eventHeader.strip())) {
        return WebhookResponse.ignored("event " + LogSafe.clean(eventHeader));
      }
      throw ApiException.invalidField(
          "object_kind",
          kindNode == null || kindNode.isNull()
              ? "object_kind is required."
              : "object_kind must be a string.");
    }
    if (JobHookEvent.KIND.equals(kind)) {
      return handleJob(root, idempotencyKey, body, delivery);
    }
    if (!MergeRequestEvent.KIND.equals(kind)) {
      // Push, pipeline, note...: acknowledged and dropped.
      return WebhookResponse.ignored("event " + LogSafe.clean(kind));
    }
    MergeRequestEvent event = MergeRequestEvent.parse(root);
    delivery.project = event.projectId();
    delivery.iid = event.iid();
    delivery.action = event.action();
    String key = idempotencyKey(idempotencyKey, body);
    delivery.key = key;
    try {
      return Bounded.call(
          properties.deliveryTimeout(),
          "ephemera-webhook-delivery",
          () -> router.route(event, key));
    } catch (TimeoutException e) {
      // Safe to answer 503 even if the signal lands later: a redelivery carries the same key.
      throw temporalDown(e);
    }
  }

  /**
   * A Job Hook: the workflow id is the job's business key, so no idempotency key is needed; it is
   * still checked and logged, for tracing a delivery.
   */
  private WebhookResponse handleJob(
      JsonNode root, String idempotencyKey, byte[] body, DeliveryLog delivery) {
    JobHookEvent event = JobHookEvent.parse(root);
    delivery.project = event.projectId();
    delivery.job = event.jobId();
    delivery.action = event.status();
    delivery.key = idempotencyKey(idempotencyKey, body);
    try {
      // The router spends the delivery time itself: lookups and Temporal get their own shares.
      return jobRouter.route(event);
    } catch (TimeoutException e) {
      // Safe to answer 503 even if the call lands later: starts and job events are idempotent.
      throw temporalDown(e);
    }
  }

  private static ApiException temporalDown(Throwable cause) {
    return new ApiException(ProblemType.TEMPORAL_UNAVAILABLE, TEMPORAL_DOWN, cause)
        .withHeader(HttpHeaders.RETRY_AFTER, "10");
  }

  private void authenticate(String token) {
    if (tokens.isEmpty()) {
      throw new ApiException(
          ProblemType.UNAUTHORIZED,
          "No webhook token is configured (ephemera.gitlab.webhook-token), so every delivery is"
              + " refused.");
    }
    if (!tokens.matches(token)) {
      throw new ApiException(
          ProblemType.UNAUTHORIZED,
          token == null
              ? "The X-Gitlab-Token header is missing."
              : "The X-Gitlab-Token header does not match the configured webhook token.");
    }
  }

  /** Reads at most the limit plus one byte, so a body of unknown length is bounded too. */
  private byte[] readBounded(HttpServletRequest request) {
    long limit = properties.maxPayload().toBytes();
    long declared = request.getContentLengthLong();
    if (declared > limit) {
      throw tooLarge(limit);
    }
    byte[] body;
    try (InputStream in = request.getInputStream()) {
      body = in.readNBytes((int) limit + 1);
    } catch (IOException e) {
      throw new ApiException(
          ProblemType.MALFORMED_PAYLOAD, "The request body could not be read completely.", e);
    }
    if (body.length > limit) {
      throw tooLarge(limit);
    }
    return body;
  }

  private static ApiException tooLarge(long limit) {
    return new ApiException(
            ProblemType.PAYLOAD_TOO_LARGE,
            "The delivery is larger than the limit of " + limit + " bytes.")
        .with("limit", limit);
  }

  private JsonNode parse(byte[] body) {
    if (body.length == 0) {
      throw new ApiException(ProblemType.MALFORMED_PAYLOAD, "The request body is empty.");
    }
    JsonNode root;
    try {
      root = json.readTree(body);
    } catch (JacksonException e) {
      // Location only: the parser's message can quote the body back.
      String where =
          e.getLocation() == null
              ? ""
              : " (line "
                  + e.getLocation().getLineNr()
                  + ", column "
                  + e.getLocation().getColumnNr()
                  + ")";
      throw new ApiException(
          ProblemType.MALFORMED_PAYLOAD, "The request body is not valid JSON" + where + ".");
    }
    if (root == null || !root.isObject()) {
      throw new ApiException(
          ProblemType.MALFORMED_PAYLOAD, "The request body must be a JSON object.");
    }
    return root;
  }

  /**
   * GitLab's Idempotency-Key is stable across redeliveries. Without one (older GitLab, a hand-made
   * request) the body's digest stands in: a redelivery carries the same body.
   */
  private static String idempotencyKey(String header, byte[] body) {
    if (header == null || header.isBlank()) {
      return "sha256:" + HexFormat.of().formatHex(sha256(body));
    }
    String key = header.strip();
    if (!KEY.matcher(key).matches()) {
      throw ApiException.invalidField(
          IDEMPOTENCY_HEADER,
          "The Idempotency-Key header must be 1 to 255 visible ASCII characters.");
    }
    return key;
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK ships SHA-256", e);
    }
  }

  /** One INFO line per delivery; never the token, never the body. */
  private static final class DeliveryLog {
    private final String header;
    String kind;
    Long project;
    Long iid;
    Long job;
    String action;
    String key;
    String outcome = "unknown";

    DeliveryLog(String header, String key) {
      this.header = header;
      this.key = key;
    }

    void write() {
      if (job != null) {
        log.info(
            "GitLab delivery event={} project={} job={} status={} key={} outcome={}",
            LogSafe.clean(kind),
            project,
            job,
            LogSafe.clean(action),
            LogSafe.clean(key),
            // Job names and tags end up in some outcomes: sender-chosen, so cleaned.
            LogSafe.clean(outcome, MAX_OUTCOME));
        return;
      }
      log.info(
          "GitLab delivery event={} project={} iid={} action={} key={} outcome={}",
          LogSafe.clean(kind != null ? kind : header),
          project,
          iid,
          LogSafe.clean(action),
          LogSafe.clean(key),
          outcome);
    }
  }

  /** Sender-chosen strings reach the log only printable, short and on one line. */
  static final class LogSafe {
    private static final int MAX = 80;

    private LogSafe() {}

    static String clean(String value) {
      return clean(value, MAX);
    }

    static String clean(String value, int max) {
      if (value == null) {
        return null;
      }
      StringBuilder out = new StringBuilder(Math.min(value.length(), max));
      value
          .codePoints()
          .limit(max)
          .forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? '?' : c));
      return value.codePointCount(0, value.length()) > max ? out + "…" : out.toString();
    }
  }
}
