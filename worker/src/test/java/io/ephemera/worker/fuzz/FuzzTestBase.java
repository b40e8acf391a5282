package io.ephemera.worker.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ephemera.api.error.ProblemType;
import io.ephemera.common.Names;
import io.ephemera.worker.fuzz.RawHttp.Answer;
import io.ephemera.worker.fuzz.RawHttp.Request;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.api.workflowservice.v1.ListClosedWorkflowExecutionsRequest;
import io.temporal.api.workflowservice.v1.ListClosedWorkflowExecutionsResponse;
import io.temporal.api.workflowservice.v1.ListOpenWorkflowExecutionsRequest;
import io.temporal.api.workflowservice.v1.ListOpenWorkflowExecutionsResponse;
import io.temporal.client.WorkflowClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Pattern;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What both fuzz suites share: the whole application in the local profile (embedded Temporal,
 * sandbox cluster, GitLab and EC2), one Spring context for both (same properties), the checks every
 * answer must pass, and Temporal bookkeeping that shows what a batch of requests started or
 * signalled.
 *
 * <p>Settings differ from the defaults where the suites need speed: a small payload limit makes
 * oversized bodies cheap, no rollout delay lets accepted deliveries finish quickly, and short
 * connection and body timeouts let slow clients be cut off within seconds.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "ephemera.temporal.embedded-port=0",
      "ephemera.api.tokens=" + FuzzTestBase.API_TOKEN,
      "ephemera.gitlab.max-payload=" + FuzzTestBase.MAX_PAYLOAD,
      "ephemera.sandbox.kubernetes.rollout-delay=0s",
      "ephemera.sandbox.ec2.state-delay=0s",
      "server.tomcat.connection-timeout=2s",
      "ephemera.api.body-timeout=3s",
      "logging.level.io.ephemera.api.webhook=WARN"
    })
@ActiveProfiles("local")
abstract class FuzzTestBase {
  static final String API_TOKEN = "fuzz-api-token";
  static final int MAX_PAYLOAD = 64 * 1024;

  /** Longer than any answer may take: a request still unanswered then is a hang. */
  static final Duration DEADLINE = Duration.ofSeconds(20);

  static final JsonMapper JSON = JsonMapper.builder().build();

  /** Kubernetes label values: at most 63 characters, alphanumerics at both ends. */
  private static final Pattern LABEL_VALUE =
      Pattern.compile("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");

  @LocalServerPort int port;
  @Autowired WorkflowClient temporal;

  @Value("${ephemera.gitlab.webhook-token}")
  String webhookToken;

  RawHttp http() {
    return new RawHttp(port);
  }

  /** One request's outcome, for the failure report. */
  record Exchange(Request request, Answer answer, Throwable failure) {}

  /**
   * Sends every request (four at a time: enough to overlap, little enough for a shared two-core
   * machine) and returns the exchanges in request order.
   */
  List<Exchange> sendAll(List<Request> requests) throws Exception {
    try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
      List<Future<Exchange>> futures = new ArrayList<>();
      for (Request r : requests) {
        futures.add(
            pool.submit(
                () -> {
                  try {
                    return new Exchange(r, http().send(r, DEADLINE), null);
                  } catch (Exception e) {
                    return new Exchange(r, null, e);
                  }
                }));
      }
      List<Exchange> out = new ArrayList<>();
      for (Future<Exchange> f : futures) {
        out.add(f.get());
      }
      return out;
    }
  }

  /**
   * Every answer is a 2xx, or a 4xx whose body is a problem with a stable type, its status and a
   * detail; never a 5xx, never silence. Returns the violations, each with the request that caused
   * it.
   */
  static List<String> unclearAnswers(List<Exchange> exchanges, long seed) {
    List<String> problems = new ArrayList<>();
    for (Exchange x : exchanges) {
      String why = unclear(x);
      if (why != null) {
        problems.add(
            why
                + "\n  seed "
                + seed
                + "\n"
                + x.request().describe()
                + (x.answer() == null
                    ? ""
                    : "\n  answer: "
                        + x.answer().status()
                        + " "
                        + x.answer().headers()
                        + " "
                        + RawHttp.shorten(x.answer().text(), 400)));
      }
    }
    return problems;
  }

  private static String unclear(Exchange x) {
    if (x.failure() != null) {
      return "no answer: " + x.failure();
    }
    Answer a = x.answer();
    if (!a.answered()) {
      return "connection closed without an answer (" + a.note() + ")";
    }
    int s = a.status();
    String expect = x.request().expect();
    if (expect != null && !Integer.toString(s).matches(expect.replace('x', '.'))) {
      return "expected " + expect + " but got " + s;
    }
    if (s >= 200 && s < 300) {
      return isJsonObject(a) ? null : "2xx without a JSON object body";
    }
    if (s < 400 || s >= 500) {
      return "status " + s;
    }
    return problemIssue(a);
  }

  /** Null when {@code a} is a clear problem+json body, else what is wrong with it. */
  static String problemIssue(Answer a) {
    String type = a.header("Content-Type");
    if (type == null || !type.startsWith("application/problem+json")) {
      return "4xx with Content-Type " + type;
    }
    JsonNode body;
    try {
      body = JSON.readTree(a.body());
    } catch (RuntimeException e) {
      return "4xx with a body that is not JSON";
    }
    if (body == null || !body.isObject()) {
      return "4xx with a body that is not a JSON object";
    }
    if (!text(body, "type").startsWith(ProblemType.BASE)) {
      return "problem without a stable type: " + text(body, "type");
    }
    if (body.path("status").asInt() != a.status()) {
      return "problem status " + body.path("status") + " differs from " + a.status();
    }
    if (text(body, "title").isBlank() || text(body, "detail").isBlank()) {
      return "problem without title or detail";
    }
    return null;
  }

  private static boolean isJsonObject(Answer a) {
    try {
      JsonNode n = JSON.readTree(a.body());
      return n != null && n.isObject();
    } catch (RuntimeException e) {
      return false;
    }
  }

  static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    return v == null || v.isNull() ? "" : v.asString();
  }

  static JsonNode json(Answer a) {
    return JSON.readTree(a.body());
  }

  /** Every execution Temporal knows, open or closed: workflow id → number of runs. */
  Map<String, Integer> executions() {
    String namespace = temporal.getOptions().getNamespace();
    var stub = temporal.getWorkflowServiceStubs().blockingStub();
    Map<String, Integer> runs = new TreeMap<>();
    com.google.protobuf.ByteString page = com.google.protobuf.ByteString.EMPTY;
    do {
      ListOpenWorkflowExecutionsResponse r =
          stub.listOpenWorkflowExecutions(
              ListOpenWorkflowExecutionsRequest.newBuilder()
                  .setNamespace(namespace)
                  .setMaximumPageSize(1000)
                  .setNextPageToken(page)
                  .build());
      count(runs, r.getExecutionsList());
      page = r.getNextPageToken();
    } while (!page.isEmpty());
    do {
      ListClosedWorkflowExecutionsResponse r =
          stub.listClosedWorkflowExecutions(
              ListClosedWorkflowExecutionsRequest.newBuilder()
                  .setNamespace(namespace)
                  .setMaximumPageSize(1000)
                  .setNextPageToken(page)
                  .build());
      count(runs, r.getExecutionsList());
      page = r.getNextPageToken();
    } while (!page.isEmpty());
    return runs;
  }

  private static void count(Map<String, Integer> runs, List<WorkflowExecutionInfo> infos) {
    for (WorkflowExecutionInfo info : infos) {
      runs.merge(info.getExecution().getWorkflowId(), 1, Integer::sum);
    }
  }

  /** Workflow ids with a run that {@code after} has and {@code before} had not. */
  static Set<String> started(Map<String, Integer> before, Map<String, Integer> after) {
    Set<String> ids = new HashSet<>();
    after.forEach(
        (id, n) -> {
          if (n > before.getOrDefault(id, 0)) {
            ids.add(id);
          }
        });
    return ids;
  }

  /**
   * The signals and updates a workflow's current run has received, a measure of "touched"; each
   * with its payload, so that a failure shows what got through.
   */
  List<String> signalsAndUpdates(String workflowId) {
    List<String> touches = new ArrayList<>();
    for (HistoryEvent e : temporal.fetchHistory(workflowId).getEvents()) {
      EventType t = e.getEventType();
      if (t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) {
        var a = e.getWorkflowExecutionSignaledEventAttributes();
        touches.add("signal " + a.getSignalName() + " " + a.getInput());
      } else if (t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) {
        var a = e.getWorkflowExecutionUpdateAcceptedEventAttributes();
        touches.add("update " + a.getAcceptedRequest().getInput());
      }
    }
    return touches;
  }

  /** {@code /actuator/health} answers UP. */
  void assertHealthy() throws Exception {
    Answer health =
        http()
            .send(
                new Request("health", "GET", "/actuator/health", List.of(), null),
                Duration.ofSeconds(10));
    assertThat(health.status()).as(health.text()).isEqualTo(200);
    assertThat(text(json(health), "status")).isEqualTo("UP");
  }

  /** Whether {@code name} may name a Kubernetes object: a DNS-1123 subdomain of labels. */
  static boolean isDns1123Subdomain(String name) {
    if (name == null || name.isEmpty() || name.length() > 253) {
      return false;
    }
    for (String label : name.split("\\.", -1)) {
      if (!Names.isDns1123Label(label)) {
        return false;
      }
    }
    return true;
  }

  static boolean isLabelValue(String value) {
    return value != null && value.length() <= 63 && LABEL_VALUE.matcher(value).matches();
  }

  static List<String> synchronizedList() {
    return Collections.synchronizedList(new ArrayList<>());
  }

  /** The execution of a workflow id's current run, for describing it. */
  static WorkflowExecution execution(String workflowId) {
    return WorkflowExecution.newBuilder().setWorkflowId(workflowId).build();
  }
}
