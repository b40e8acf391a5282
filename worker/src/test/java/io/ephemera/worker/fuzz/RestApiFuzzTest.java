package io.ephemera.worker.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ephemera.common.WorkflowIds;
import io.ephemera.worker.fuzz.RawHttp.Answer;
import io.ephemera.worker.fuzz.RawHttp.Request;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.springframework.core.io.ClassPathResource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The REST API under the same treatment as the webhook: path ids that are negative, huge,
 * non-numeric, Unicode, traversals or very long; stop and extend bodies that are malformed,
 * oversized or of the wrong type; missing and wrong bearer tokens. Every answer is a 2xx or a clear
 * 4xx problem; no request starts a workflow; no invalid request signals or updates the running
 * review app and runner it is aimed at; the service is healthy afterwards.
 *
 * <p>Requests whose validity the generator cannot be sure of (a body Jackson may coerce, say) only
 * ever target ids with nothing behind them, so the two running workflows are touched by requests
 * that are invalid by construction alone. {@code -Dephemera.fuzz.seed=<n>} replays a run.
 */
class RestApiFuzzTest extends FuzzTestBase {
  private static final long PROJECT = 777_001;
  private static final long IID = 1;
  private static final long JOB = 1;

  private static final List<String> BAD_IDS =
      List.of(
          "-1",
          "0",
          "-9223372036854775808",
          "9223372036854775808",
          "99999999999999999999999",
          "abc",
          "1.5",
          "1e3",
          "0x10",
          "%201",
          "1%20",
          "%E2%98%83",
          "%F0%9F%A6%84",
          "..",
          "%2e%2e",
          "..%2F..%2Factuator",
          "%2F",
          "%00",
          "1%0A",
          "%EF%BC%91",
          "%25",
          "null",
          "-",
          "9".repeat(2_000),
          "1".repeat(9_000));

  private static final List<String> BAD_EXTEND_BODIES =
      List.of(
          "",
          "{",
          "{\"duration\":",
          "[]",
          "null",
          "{}",
          "{\"duration\":null}",
          "{\"duration\":\"\"}",
          "{\"duration\":\"   \"}",
          "{\"duration\":\"PT0S\"}",
          "{\"duration\":\"PT-1H\"}",
          "{\"duration\":\"-P1D\"}",
          "{\"duration\":\"P99999999999999D\"}",
          "{\"duration\":\"PT9223372036854775807S\"}",
          "{\"duration\":\"P400D\"}",
          "{\"duration\":\"48h\"}",
          "{\"duration\":\"tomorrow\"}",
          "{\"duration\":{}}",
          "{\"duration\":[\"PT1H\"]}",
          "{\"duration\":\"PT1H\"",
          "{\"duration\":\"\\u0000\"}",
          "{\"duration\":\"ＰＴ１Ｈ\"}");

  private static final List<String> BAD_STOP_BODIES =
      List.of(
          "{",
          "[]",
          "{\"reason\":{}}",
          "{\"reason\":[1]}",
          "{\"reason\":\"" + "r".repeat(501) + "\"}",
          "{\"reason\":\"" + "é".repeat(800) + "\"}",
          "{\"reason\":",
          "\u0000\u0001");

  private FuzzRandom random;
  private String reviewAppId;
  private String runnerId;

  @Test
  void everyRequestGetsAClearAnswerAndOnlyValidOnesTouchAWorkflow() throws Exception {
    random = FuzzRandom.forSuite("RestApiFuzzTest");
    startTheTargets();
    List<String> reviewAppTouches = signalsAndUpdates(reviewAppId);
    List<String> runnerTouches = signalsAndUpdates(runnerId);
    Map<String, Integer> before = executions();

    FuzzRandom r = random.split("rest");
    List<Request> requests = new ArrayList<>();
    for (int i = 0; i < 1_500; i++) {
      requests.add(invalidByConstruction(r));
    }
    for (int i = 0; i < 1_000; i++) {
      requests.add(aimedAtNothing(r));
    }
    List<Exchange> exchanges = sendAll(requests);
    List<String> failures = unclearAnswers(exchanges, random.seed);
    failures.forEach(f -> System.out.println("FUZZ FAILURE " + f));
    System.out.printf("RestApiFuzzTest: %d requests%n", exchanges.size());

    assertThat(failures).as("seed %d", random.seed).isEmpty();
    assertThat(started(before, executions()))
        .as("workflows started through the REST API")
        .isEmpty();
    assertThat(signalsAndUpdates(reviewAppId))
        .as("signals and updates the review app got (seed %d)", random.seed)
        .isEqualTo(reviewAppTouches);
    assertThat(signalsAndUpdates(runnerId))
        .as("signals the runner got (seed %d)", random.seed)
        .isEqualTo(runnerTouches);
    assertHealthy();
    // Still there, still answering: nothing invalid stopped them.
    assertThat(get("/api/v1/review-apps/" + PROJECT + "/" + IID).status()).isEqualTo(200);
    assertThat(get("/api/v1/runners/" + PROJECT + "/" + JOB).status()).isEqualTo(200);
  }

  /**
   * Aimed at the running review app and runner, and invalid whatever else is drawn: no token or a
   * wrong one, a bad id, an unreadable or out-of-range body, a media type the endpoint refuses.
   */
  private Request invalidByConstruction(FuzzRandom r) {
    String project = Long.toString(PROJECT);
    String second = Long.toString(r.chance(0.5) ? IID : JOB);
    String resource = r.pick("review-apps", "runners");
    String action = resource.equals("review-apps") ? r.pick("stop", "extend") : "stop";
    String body = action.equals("extend") ? "{\"duration\":\"PT1H\"}" : "{\"reason\":\"fuzz\"}";
    String auth = "Bearer " + API_TOKEN;
    String type = "application/json";
    switch (r.nextInt(6)) {
      case 0 -> auth = badAuth(r);
      case 1 -> {
        if (r.chance(0.5)) {
          project = r.pick(BAD_IDS);
        } else {
          second = r.pick(BAD_IDS);
        }
      }
      case 2 ->
          body = action.equals("extend") ? r.pick(BAD_EXTEND_BODIES) : r.pick(BAD_STOP_BODIES);
      case 3 -> body = oversized(r, body);
      case 4 -> {
        type = r.pick("text/plain", "application/xml", "application/x-www-form-urlencoded");
        body = body + " ";
      }
      default -> {
        body = r.unicode(r.between(1, 200));
        if (body.isBlank()) {
          body = "{";
        }
      }
    }
    return request(
            "invalid",
            "POST",
            "/api/v1/" + resource + "/" + project + "/" + second + "/" + action,
            auth,
            type,
            body)
        .expecting("4xx");
  }

  /** Anything at all, aimed at ids no workflow has (or at no valid id): only reads can succeed. */
  private Request aimedAtNothing(FuzzRandom r) {
    String a = r.chance(0.6) ? r.pick(BAD_IDS) : Long.toString(r.pick(5L, 6L, Long.MAX_VALUE));
    String b = r.chance(0.6) ? r.pick(BAD_IDS) : Long.toString(r.pick(5L, 7L, Long.MAX_VALUE));
    String auth = r.chance(0.8) ? "Bearer " + API_TOKEN : badAuth(r);
    String type =
        r.chance(0.85)
            ? "application/json"
            : r.pick("text/plain", "", "application/json; charset=bogus", "*/*");
    String resource = r.pick("review-apps", "runners");
    return switch (r.nextInt(7)) {
      case 0 ->
          request("reads", "GET", "/api/v1/" + resource + "/" + a + "/" + b, auth, null, null);
      case 1 ->
          request(
              "lists",
              "GET",
              "/api/v1/"
                  + resource
                  + "?phase="
                  + r.pick(
                      "READY",
                      "ready",
                      "WAITING",
                      "nope",
                      "%00",
                      "%E2%98%83",
                      "p".repeat(3_000),
                      "READY&phase=FAILED",
                      ""),
              auth,
              null,
              null);
      case 2 ->
          request(
              "extend",
              "POST",
              "/api/v1/review-apps/" + a + "/" + b + "/extend",
              auth,
              type,
              r.chance(0.5)
                  ? r.pick(BAD_EXTEND_BODIES)
                  : r.pick(
                      "{\"duration\":\"PT1H\"}",
                      "\"PT1H\"",
                      "{\"duration\":5}",
                      "{\"duration\":true}",
                      "{\"duration\":\"P1D\",\"x\":[1,{}]}",
                      oversized(r, "{\"duration\":\"PT1H\"}")));
      case 3 ->
          request(
              "stop",
              "POST",
              "/api/v1/" + resource + "/" + a + "/" + b + "/stop",
              auth,
              type,
              r.chance(0.5)
                  ? r.pick(BAD_STOP_BODIES)
                  : r.pick(
                      "",
                      "{}",
                      "\"stop\"",
                      "{\"reason\":5}",
                      "{\"reason\":null}",
                      "{\"reason\":\"" + r.unicode(100) + "\"}"));
      case 4 ->
          request(
              "methods",
              r.pick("PUT", "DELETE", "PATCH"),
              "/api/v1/" + resource + "/" + a + "/" + b + r.pick("", "/stop", "/extend"),
              auth,
              "application/json",
              "{}");
      case 5 ->
          request(
              "paths",
              r.pick("GET", "POST"),
              "/api/v1/"
                  + resource
                  + "/"
                  + a
                  + r.pick("", "/", "/" + b + "/" + b + "/x", "/" + b + "/stop/again"),
              auth,
              null,
              null);
      default ->
          request(
              "random-bytes",
              "POST",
              "/api/v1/" + resource + "/" + a + "/" + b + "/" + r.pick("stop", "extend"),
              auth,
              "application/json",
              new String(r.bytes(r.between(1, 500)), StandardCharsets.ISO_8859_1));
    };
  }

  private String badAuth(FuzzRandom r) {
    return r.pick(
        null,
        "",
        "Bearer",
        "Bearer ",
        "Bearer wrong",
        "Bearer " + API_TOKEN.toUpperCase(),
        "Bearer " + API_TOKEN + "x",
        "Basic " + API_TOKEN,
        API_TOKEN,
        "Bearer " + "t".repeat(7_000),
        "Bearer " + r.unicode(10),
        "Bearer\t" + API_TOKEN.substring(1));
  }

  private static String oversized(FuzzRandom r, String body) {
    int size = r.pick(70 * 1024, 300 * 1024, 1024 * 1024);
    return body.substring(0, body.length() - 1) + ",\"pad\":\"" + "p".repeat(size) + "\"}";
  }

  private static Request request(
      String category, String method, String target, String auth, String type, String body) {
    List<String[]> headers = new ArrayList<>();
    if (auth != null) {
      headers.add(new String[] {"Authorization", auth});
    }
    if (type != null && !type.isEmpty()) {
      headers.add(new String[] {"Content-Type", type});
    }
    byte[] bytes =
        body == null
            ? null
            : category.equals("random-bytes")
                ? body.getBytes(StandardCharsets.ISO_8859_1)
                : body.getBytes(StandardCharsets.UTF_8);
    return new Request(category, method, target, headers, bytes);
  }

  // ---------------------------------------------------------------- the two running targets

  /** A review app deployed through the webhook and a runner waiting for its job. */
  private void startTheTargets() throws Exception {
    ObjectNode mr =
        (ObjectNode)
            JSON.readTree(
                new ClassPathResource("gitlab/merge-request-open.json").getContentAsByteArray());
    ((ObjectNode) mr.get("project")).put("id", PROJECT);
    ((ObjectNode) mr.get("object_attributes"))
        .put("iid", IID)
        .put("source_project_id", PROJECT)
        .put("target_project_id", PROJECT);
    Answer opened = webhook("Merge Request Hook", JSON.writeValueAsString(mr));
    assertThat(opened.status()).as(opened.text()).isEqualTo(202);
    reviewAppId = WorkflowIds.reviewApp(PROJECT, IID);

    String job =
        "{\"object_kind\":\"build\",\"build_id\":"
            + JOB
            + ",\"build_name\":\"test\",\"build_stage\":\"test\",\"build_status\":\"pending\","
            + "\"project_id\":"
            + PROJECT
            + ",\"project\":{\"id\":"
            + PROJECT
            + ",\"path_with_namespace\":\"fuzz/rest\"},\"runner\":null}";
    Answer pending = webhook("Job Hook", job);
    assertThat(pending.status()).as(pending.text()).isEqualTo(202);
    runnerId = WorkflowIds.runner(PROJECT, JOB);

    await("/api/v1/review-apps/" + PROJECT + "/" + IID, s -> "READY".equals(text(s, "phase")));
    await("/api/v1/runners/" + PROJECT + "/" + JOB, s -> "WAITING".equals(text(s, "phase")));
  }

  private Answer webhook(String event, String body) throws Exception {
    return http()
        .send(
            new Request(
                "setup",
                "POST",
                "/webhooks/gitlab",
                RawHttp.headers(
                    "Content-Type", "application/json",
                    "X-Gitlab-Event", event,
                    "X-Gitlab-Token", webhookToken),
                body.getBytes(StandardCharsets.UTF_8)),
            DEADLINE);
  }

  private Answer get(String path) throws Exception {
    return http()
        .send(
            new Request(
                "setup",
                "GET",
                path,
                RawHttp.headers("Authorization", "Bearer " + API_TOKEN),
                null),
            DEADLINE);
  }

  private void await(String path, Predicate<JsonNode> done) throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    String last = null;
    while (System.nanoTime() < end) {
      Answer a = get(path);
      last = a.status() + " " + a.text();
      if (a.status() == 200 && done.test(json(a))) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError(path + " did not get there; last: " + last);
  }
}
