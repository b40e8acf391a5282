package io.ephemera.worker.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.ephemera.common.WorkflowIds;
import io.ephemera.sandbox.SandboxGitLab;
import io.ephemera.worker.config.ActivityLoggingInterceptor;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.logging.logback.StructuredLogEncoder;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.io.ClassPathResource;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Ephemera after a review app's and a runner's whole life, seen the way an operator sees it: the
 * metrics docs/metrics.md promises are scraped from {@code /actuator/prometheus}, and the lines
 * activities logged carry the workflow, project and merge request or job, as JSON under structured
 * logging, with no secret in them.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "ephemera.temporal.embedded-port=0",
      // Its own token, so its own application context: the end-to-end tests use the same merge
      // request and job fixtures, and a shared sandbox GitLab would carry one test's history into
      // the other.
      "ephemera.api.tokens=observability-token",
      "ephemera.sandbox.kubernetes.rollout-delay=200ms"
    })
@ActiveProfiles("local")
@DirtiesContext
class ObservabilityEndToEndTest {
  private static final Duration DEADLINE = Duration.ofSeconds(60);
  private static final long RUNNER_PROJECT = 380;
  private static final long JOB = 2024;
  private static final ListAppender<ILoggingEvent> LOGS =
      new ListAppender<>() {
        @Override
        protected void append(ILoggingEvent e) {
          // The MDC is read lazily; snapshot it on the logging thread, as an async appender does.
          e.prepareForDeferredProcessing();
          super.append(e);
        }
      };

  private final HttpClient http = HttpClient.newHttpClient();
  private final JsonMapper json = JsonMapper.builder().build();

  @LocalServerPort int port;
  @Autowired SandboxGitLab gitlab;

  /** After the context is up: Spring Boot's logging set-up resets Logback's appenders. */
  @BeforeEach
  void captureLogs() {
    LOGS.start();
    root().addAppender(LOGS);
  }

  @AfterEach
  void releaseLogs() {
    root().detachAppender(LOGS);
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  @Test
  void afterAReviewAppAndARunnerLifecycleMetricsAndLogsSayWhatHappened() throws Exception {
    reviewAppLifecycle();
    runnerLifecycle();
    // A delivery with a wrong token: a failure the dashboard's webhook panel must show.
    assertThat(post("Merge Request Hook", "{}", "wrong-token").statusCode()).isEqualTo(401);

    MetricsDocs docs = MetricsDocs.load();
    // The Temporal SDK buffers its counters and gauges, the workflows' metrics among them, and
    // reports them every few seconds; the reconciler's first pass runs at start-up. Scrape until
    // the documented metrics and the evidence of each lifecycle are there, or the deadline says
    // they never will be.
    String scrape;
    List<Sample> samples;
    Set<String> missing;
    List<String> unseen;
    long deadline = System.nanoTime() + Duration.ofSeconds(45).toNanos();
    do {
      scrape = get("/actuator/prometheus");
      samples = samples(scrape);
      Set<String> scraped = sampleNames(scrape);
      missing = new TreeSet<>();
      for (String metric : docs.registeredByTheApplication()) {
        if (!present(metric, scraped)) {
          missing.add(metric);
        }
      }
      unseen = new ArrayList<>();
      for (Evidence evidence : LIFECYCLE_EVIDENCE) {
        if (!has(samples, evidence.name(), evidence.labels())) {
          unseen.add(evidence.name() + evidence.labels());
        }
      }
      if (missing.isEmpty() && unseen.isEmpty()) {
        break;
      }
      Thread.sleep(500);
    } while (System.nanoTime() < deadline);
    // Kept for whoever reads a failure of this test.
    Files.writeString(Path.of("target", "prometheus-scrape.txt"), scrape);
    assertThat(missing).as("documented in docs/metrics.md but absent from the scrape").isEmpty();
    assertThat(unseen).as("what the lifecycles above must have recorded").isEmpty();
    Set<String> scraped = sampleNames(scrape);

    // The labels docs/metrics.md lists are on every sample of the metric.
    List<String> unlabelled = new ArrayList<>();
    for (String metric : docs.names()) {
      for (Sample sample : family(samples, metric)) {
        if (!sample.labels().keySet().containsAll(docs.labels(metric))) {
          unlabelled.add(metric + " documents " + docs.labels(metric) + ", a sample has " + sample);
        }
      }
    }
    assertThat(unlabelled).as("documented labels missing from the scrape").isEmpty();

    // Every metric, label and label value the Grafana dashboard selects on is in the scrape.
    List<String> notExported = new ArrayList<>();
    for (String expr : GrafanaDashboardTest.expressions()) {
      notExported.addAll(dashboardQueryProblems(expr, samples));
    }
    assertThat(notExported)
        .as("dashboard queries on what the application does not export")
        .isEmpty();

    // Every ephemera_ metric the application exports is documented.
    Set<String> undocumented = new TreeSet<>();
    for (String name : scraped) {
      if (name.startsWith("ephemera_")
          && docs.names().stream().noneMatch(d -> present(d, Set.of(name)))) {
        undocumented.add(name);
      }
    }
    assertThat(undocumented).as("exported but not in docs/metrics.md").isEmpty();

    assertThat(scrape)
        .containsPattern(
            "ephemera_webhook_deliveries_total\\{[^}]*event=\"merge_request\"[^}]*outcome=\"accepted\"")
        .containsPattern(
            "ephemera_webhook_deliveries_total\\{[^}]*event=\"job\"[^}]*outcome=\"accepted\"")
        .containsPattern("ephemera_webhook_deliveries_total\\{[^}]*outcome=\"unauthorized\"")
        .containsPattern("ephemera_workflows_started_total\\{[^}]*kind=\"review-app\"[^}]*} 1\\.0")
        .containsPattern("ephemera_workflows_started_total\\{[^}]*kind=\"runner\"[^}]*} 1\\.0")
        .contains("ephemera_webhook_latency_seconds_bucket");

    activityLinesCarryTheirWorkflowAndNoSecret();
  }

  private void activityLinesCarryTheirWorkflowAndNoSecret() {
    List<ILoggingEvent> events = List.copyOf(LOGS.list);
    String reviewApp = WorkflowIds.reviewApp(4242, 7);
    ILoggingEvent rolloutLine = null;
    ILoggingEvent runnerLine = null;
    for (ILoggingEvent e : events) {
      if (e.getLoggerName().startsWith("io.ephemera.activity.")
          && e.getMDCPropertyMap().containsKey(ActivityLoggingInterceptor.WORKFLOW_ID)) {
        String id = e.getMDCPropertyMap().get(ActivityLoggingInterceptor.WORKFLOW_ID);
        if (id.equals(reviewApp) && rolloutLine == null) {
          rolloutLine = e;
        }
        if (id.equals(WorkflowIds.runner(RUNNER_PROJECT, JOB))
            && e.getFormattedMessage().contains("runner pod")) {
          runnerLine = e;
        }
      }
    }
    assertThat(rolloutLine).as("an activity of the review app logged a line").isNotNull();
    assertThat(rolloutLine.getMDCPropertyMap())
        .containsEntry(ActivityLoggingInterceptor.PROJECT_ID, "4242")
        .containsEntry(ActivityLoggingInterceptor.MR_IID, "7")
        .containsKey(ActivityLoggingInterceptor.ACTIVITY_TYPE)
        .doesNotContainKey(ActivityLoggingInterceptor.JOB_ID);
    assertThat(runnerLine).as("RunnerPods logged the pod it created").isNotNull();
    assertThat(runnerLine.getMDCPropertyMap())
        .containsEntry(ActivityLoggingInterceptor.PROJECT_ID, Long.toString(RUNNER_PROJECT))
        .containsEntry(ActivityLoggingInterceptor.JOB_ID, Long.toString(JOB));

    // Production logs are JSON (logging.structured.format.console in the chart): the same line
    // through Spring Boot's ECS encoder carries the fields.
    StructuredLogEncoder encoder = new StructuredLogEncoder();
    encoder.setFormat("ecs");
    encoder.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
    encoder.start();
    JsonNode line = json.readTree(new String(encoder.encode(runnerLine), StandardCharsets.UTF_8));
    assertThat(line.get(ActivityLoggingInterceptor.WORKFLOW_ID).asString())
        .isEqualTo(WorkflowIds.runner(RUNNER_PROJECT, JOB));
    assertThat(line.get(ActivityLoggingInterceptor.JOB_ID).asString())
        .isEqualTo(Long.toString(JOB));
    assertThat(line.get("message").asString()).contains("runner pod");

    // The runner's token went through the activities; no line shows it.
    for (ILoggingEvent e : events) {
      assertThat(e.getFormattedMessage()).doesNotContain(SandboxGitLab.TOKEN_PREFIX);
      assertThat(e.getMDCPropertyMap().toString()).doesNotContain(SandboxGitLab.TOKEN_PREFIX);
    }
    // Outside an activity, the fields are gone: threads are pooled and reused.
    assertThat(events)
        .filteredOn(e -> e.getLoggerName().contains("GitLabWebhookController"))
        .isNotEmpty()
        .allSatisfy(
            e ->
                assertThat(e.getMDCPropertyMap())
                    .doesNotContainKey(ActivityLoggingInterceptor.WORKFLOW_ID));
  }

  // ---- the two lifecycles ----

  private void reviewAppLifecycle() throws Exception {
    String open =
        new String(
            new ClassPathResource("gitlab/merge-request-open.json").getContentAsByteArray(),
            StandardCharsets.UTF_8);
    assertThat(post("Merge Request Hook", open, "local-webhook-token").statusCode()).isEqualTo(202);
    await("/api/v1/review-apps/4242/7", s -> "READY".equals(text(s, "phase")));
    String close =
        new String(
            new ClassPathResource("gitlab/merge-request-close.json").getContentAsByteArray(),
            StandardCharsets.UTF_8);
    assertThat(post("Merge Request Hook", close, "local-webhook-token").statusCode())
        .isEqualTo(202);
    await("/api/v1/review-apps/4242/7", s -> "STOPPED".equals(text(s, "phase")));
  }

  private void runnerLifecycle() throws Exception {
    gitlab.seedJob(RUNNER_PROJECT, JOB, "test", "pending", List.of());
    assertThat(jobHook("pending", null).statusCode()).isEqualTo(202);
    String path = "/api/v1/runners/" + RUNNER_PROJECT + "/" + JOB;
    long runnerId = await(path, s -> "WAITING".equals(text(s, "phase"))).get("runnerId").asLong();
    gitlab.setJobStatus(RUNNER_PROJECT, JOB, "running", runnerId);
    assertThat(jobHook("running", runnerId).statusCode()).isEqualTo(202);
    gitlab.setJobStatus(RUNNER_PROJECT, JOB, "success", runnerId);
    assertThat(jobHook("success", runnerId).statusCode()).isEqualTo(202);
    await(path, s -> "FINISHED".equals(text(s, "phase")));
  }

  private HttpResponse<String> jobHook(String status, Long runnerId) throws Exception {
    String runner =
        runnerId == null
            ? "null"
            : "{\"id\": %d, \"description\": \"%s\"}"
                .formatted(
                    runnerId,
                    WorkflowIds.runnerDescription(WorkflowIds.runner(RUNNER_PROJECT, JOB)));
    String body =
        """
        {"object_kind": "build", "build_id": %d, "build_name": "test", "build_stage": "test",
         "build_status": "%s", "runner": %s, "project_id": %d,
         "project": {"id": %d, "path_with_namespace": "gitlab-org/gitlab-test"}}"""
            .formatted(JOB, status, runner, RUNNER_PROJECT, RUNNER_PROJECT);
    return post("Job Hook", body, "local-webhook-token");
  }

  // ---- HTTP ----

  private HttpResponse<String> post(String event, String body, String token) throws Exception {
    return http.send(
        HttpRequest.newBuilder(uri("/webhooks/gitlab"))
            .header("Content-Type", "application/json")
            .header("X-Gitlab-Event", event)
            .header("X-Gitlab-Token", token)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private String get(String path) throws Exception {
    HttpResponse<String> r =
        http.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path).isEqualTo(200);
    return r.body();
  }

  private JsonNode await(String path, Predicate<JsonNode> done) throws Exception {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(uri(path))
                  .header("Authorization", "Bearer observability-token")
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200) {
        last = json.readTree(r.body());
        if (done.test(last)) {
          return last;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("not reached within " + DEADLINE + " at " + path + "; last: " + last);
  }

  private URI uri(String path) {
    return URI.create("http://localhost:" + port + path);
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    return v == null || v.isNull() ? null : v.asString();
  }

  // ---- the scrape ----

  /**
   * Samples that prove each lifecycle ran through the metrics: the review app's deploy and
   * teardown, the runner's queue and life, and at least one reconciler pass.
   */
  private static final List<Evidence> LIFECYCLE_EVIDENCE =
      List.of(
          new Evidence(
              "ephemera_phase_transitions_total", Map.of("kind", "review-app", "phase", "READY")),
          new Evidence(
              "ephemera_phase_transitions_total", Map.of("kind", "review-app", "phase", "STOPPED")),
          new Evidence(
              "ephemera_phase_transitions_total", Map.of("kind", "runner", "phase", "WAITING")),
          new Evidence(
              "ephemera_phase_transitions_total", Map.of("kind", "runner", "phase", "FINISHED")),
          new Evidence("ephemera_deploy_duration_seconds_count", Map.of("kind", "review-app")),
          new Evidence("ephemera_teardown_duration_seconds_count", Map.of("kind", "review-app")),
          new Evidence("ephemera_runner_queue_seconds_count", Map.of("kind", "runner")),
          new Evidence("ephemera_runner_lifetime_seconds_count", Map.of("kind", "runner")),
          new Evidence("ephemera_reconciler_passes_total", Map.of()));

  /** A sample that must be there, counting above zero. */
  record Evidence(String name, Map<String, String> labels) {}

  /** One line of the Prometheus text format. */
  record Sample(String name, Map<String, String> labels, double value) {}

  private static final Pattern SAMPLE_LINE =
      Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{([^}]*)})?\\s+(\\S+)");
  private static final Pattern LABEL =
      Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  static List<Sample> samples(String scrape) {
    List<Sample> out = new ArrayList<>();
    Matcher m = SAMPLE_LINE.matcher(scrape);
    while (m.find()) {
      Map<String, String> labels = new java.util.LinkedHashMap<>();
      if (m.group(2) != null) {
        Matcher l = LABEL.matcher(m.group(2));
        while (l.find()) {
          labels.put(l.group(1), l.group(2));
        }
      }
      double value;
      try {
        value = Double.parseDouble(m.group(3));
      } catch (NumberFormatException e) {
        value = Double.NaN;
      }
      out.add(new Sample(m.group(1), labels, value));
    }
    return out;
  }

  /** A sample of {@code name} carrying {@code labels}, counting above zero. */
  static boolean has(List<Sample> samples, String name, Map<String, String> labels) {
    return samples.stream()
        .anyMatch(
            s ->
                s.name().equals(name)
                    && s.labels().entrySet().containsAll(labels.entrySet())
                    && s.value() > 0);
  }

  /** The samples of a documented metric: its own name, or it plus a histogram suffix. */
  static List<Sample> family(List<Sample> samples, String metric) {
    return samples.stream().filter(s -> present(metric, Set.of(s.name()))).toList();
  }

  private static final Pattern SELECTOR =
      Pattern.compile("((?:ephemera|temporal)_[a-z0-9_]+)(?:\\{([^}]*)})?");
  private static final Pattern MATCHER =
      Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)\\s*\"([^\"]*)\"");
  private static final Pattern BY = Pattern.compile("\\bby\\s*\\(([^)]*)\\)");

  /**
   * What one dashboard query selects on that the scrape lacks: a series, a label it groups or
   * filters by, or a value it asks for with {@code =}. Regex matchers need only the label, since a
   * value such as FAILED may not have happened yet.
   */
  static List<String> dashboardQueryProblems(String expr, List<Sample> samples) {
    List<String> problems = new ArrayList<>();
    Set<String> grouping = new TreeSet<>();
    Matcher by = BY.matcher(expr);
    while (by.find()) {
      for (String label : by.group(1).split(",")) {
        if (!label.isBlank()) {
          grouping.add(label.strip());
        }
      }
    }
    Matcher sel = SELECTOR.matcher(expr);
    while (sel.find()) {
      String series = sel.group(1);
      List<Sample> of = samples.stream().filter(s -> s.name().equals(series)).toList();
      if (of.isEmpty()) {
        problems.add(expr + ": no series " + series);
        continue;
      }
      for (String label : grouping) {
        if (of.stream().noneMatch(s -> s.labels().containsKey(label))) {
          problems.add(expr + ": " + series + " has no label " + label);
        }
      }
      if (sel.group(2) == null) {
        continue;
      }
      Matcher m = MATCHER.matcher(sel.group(2));
      while (m.find()) {
        String label = m.group(1);
        String op = m.group(2);
        String value = m.group(3);
        if (of.stream().noneMatch(s -> s.labels().containsKey(label))) {
          problems.add(expr + ": " + series + " has no label " + label);
        } else if (op.equals("=")
            && of.stream().noneMatch(s -> value.equals(s.labels().get(label)))) {
          problems.add(expr + ": " + series + " never has " + label + "=\"" + value + "\"");
        }
      }
    }
    return problems;
  }

  private static final Pattern SAMPLE = Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]");

  static Set<String> sampleNames(String scrape) {
    Set<String> names = new TreeSet<>();
    Matcher m = SAMPLE.matcher(scrape);
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  /** A documented name is present when a sample has it, or it plus a histogram/summary suffix. */
  static boolean present(String documented, Set<String> samples) {
    for (String s : samples) {
      if (s.equals(documented)) {
        return true;
      }
      for (String suffix : List.of("_bucket", "_count", "_sum", "_max")) {
        if (s.equals(documented + suffix)) {
          return true;
        }
      }
    }
    return false;
  }
}
