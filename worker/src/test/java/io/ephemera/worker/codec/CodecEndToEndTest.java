package io.ephemera.worker.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.ephemera.codec.AesGcmPayloadCodec;
import io.ephemera.codec.CodecKeyRing;
import io.ephemera.worker.config.TaskQueueActivities;
import io.ephemera.worker.config.TaskQueueWorkflows;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.common.v1.Payloads;
import io.temporal.api.common.v1.SearchAttributes;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.failure.v1.Failure;
import io.temporal.api.history.v1.History;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.history.v1.MarkerRecordedEventAttributes;
import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryRequest;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryResponse;
import io.temporal.api.workflowservice.v1.ListClosedWorkflowExecutionsRequest;
import io.temporal.api.workflowservice.v1.ListOpenWorkflowExecutionsRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.serviceclient.WorkflowServiceStubs;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.core.io.ClassPathResource;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Payload encryption in the whole application: the local profile with the codec turned on and a key
 * rotated (a retired key {@code old}, the current key {@code new}). A review app goes through open,
 * extend and close over HTTP, and a probe workflow adds the failures a happy path lacks; then every
 * history in the namespace is read straight from Temporal and every payload in every event must be
 * encrypted with the current key, every failure's message and stack trace hidden in its encrypted
 * attributes, and no plain value anywhere in the bytes. The codec endpoint turns them back into
 * readable JSON.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "ephemera.temporal.embedded-port=0",
      "ephemera.api.tokens=e2e-token",
      "ephemera.sandbox.kubernetes.rollout-delay=200ms",
      "ephemera.codec.enabled=true",
      "ephemera.codec.key-id=new",
      "ephemera.codec.keys.old=" + CodecEndToEndTest.OLD_KEY,
      "ephemera.codec.keys.new=" + CodecEndToEndTest.NEW_KEY,
      "ephemera.codec.cors-origins=http://localhost:8233"
    })
@ActiveProfiles("local")
class CodecEndToEndTest {
  static final String OLD_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  static final String NEW_KEY = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
  static final String SHA = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";
  static final String ENCODED_FAILURE = "Encoded failure";
  private static final Duration DEADLINE = Duration.ofSeconds(60);

  private final HttpClient http = HttpClient.newHttpClient();
  private final JsonMapper json = JsonMapper.builder().build();

  @LocalServerPort int port;
  @Autowired WorkflowClient temporal;
  @Autowired WorkflowServiceStubs stubs;

  @Value("${ephemera.gitlab.webhook-token}")
  String webhookToken;

  @TestConfiguration
  static class Probe {
    @Bean
    TaskQueueWorkflows codecProbeWorkflows() {
      return TaskQueueWorkflows.of(CodecProbeWorkflow.TASK_QUEUE, CodecProbeWorkflowImpl.class);
    }

    @Bean
    TaskQueueActivities codecProbeActivities() {
      return TaskQueueActivities.of(
          CodecProbeWorkflow.TASK_QUEUE, new CodecProbeWorkflowImpl.Activities());
    }
  }

  @Test
  void everyPayloadOfEveryHistoryIsEncryptedAndTheCodecEndpointReadsThem() throws Exception {
    // A review app's life, as GitLab and an operator drive it.
    assertThat(postWebhook("gitlab/merge-request-open.json", "codec-open-1").statusCode())
        .isEqualTo(202);
    awaitStatus("/api/v1/review-apps/4242/7", s -> "READY".equals(text(s, "phase")));
    HttpResponse<String> extended =
        send(
            HttpRequest.newBuilder(uri("/api/v1/review-apps/4242/7/extend"))
                .header("Authorization", "Bearer e2e-token")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"duration\":\"PT48H\"}")));
    assertThat(extended.statusCode()).as(extended.body()).isEqualTo(200);
    assertThat(postWebhook("gitlab/merge-request-close.json", "codec-close-1").statusCode())
        .isEqualTo(202);
    // Read through the api: the client decrypts what it reads, so the REST API is unaffected.
    JsonNode stopped =
        awaitStatus("/api/v1/review-apps/4242/7", s -> "STOPPED".equals(text(s, "phase")));
    assertThat(text(stopped, "sha")).isEqualTo(SHA);

    // Failures: an activity attempt that fails, and a workflow that fails, both quoting a marker.
    String marker = "codec-probe-" + UUID.randomUUID();
    CodecProbeWorkflow probe =
        temporal.newWorkflowStub(
            CodecProbeWorkflow.class,
            WorkflowOptions.newBuilder()
                .setWorkflowId("codec-probe/" + marker)
                .setTaskQueue(CodecProbeWorkflow.TASK_QUEUE)
                .build());
    assertThatThrownBy(() -> probe.run(marker))
        .isInstanceOf(WorkflowFailedException.class)
        // The client decrypts the failure for its caller: the message is back.
        .rootCause()
        .hasMessageContaining("probe failed on " + marker);

    List<WorkflowExecution> executions = allExecutions();
    assertThat(executions)
        .extracting(WorkflowExecution::getWorkflowId)
        .contains("review-app/4242/mr-7", "codec-probe/" + marker);

    Census census = new Census();
    Map<String, String> plainText = new LinkedHashMap<>();
    for (WorkflowExecution execution : executions) {
      History history = history(execution);
      for (HistoryEvent event : history.getEventsList()) {
        census.walk(
            event,
            execution.getWorkflowId() + " #" + event.getEventId() + " " + event.getEventType(),
            event);
      }
      plainText.put(
          execution.getWorkflowId(),
          new String(history.toByteArray(), StandardCharsets.ISO_8859_1));
    }
    assertThat(census.violations).as("payloads not encrypted with the current key").isEmpty();
    // The walk saw every kind of payload the issue names; none of these can be zero.
    assertThat(census.counts)
        .as("encrypted payloads by event field: %s", census.counts)
        .containsKeys(
            "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED.input",
            "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED.input",
            "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED.input",
            "EVENT_TYPE_ACTIVITY_TASK_COMPLETED.result",
            "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED.result",
            "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED.accepted_request",
            "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED.outcome",
            "EVENT_TYPE_ACTIVITY_TASK_FAILED.failure",
            "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED.user_metadata",
            "EVENT_TYPE_WORKFLOW_EXECUTION_FAILED.failure",
            "EVENT_TYPE_MARKER_RECORDED.details.result");
    assertThat(census.failures).as("failures seen").isGreaterThanOrEqualTo(2);
    // And in the raw bytes, no value the workflows handled shows up anywhere ("json/plain" does:
    // the SDK's marker bookkeeping above).
    plainText.forEach(
        (id, bytes) ->
            assertThat(bytes)
                .as("plain values in the history of %s", id)
                .doesNotContain(marker)
                .doesNotContain(SHA)
                .doesNotContain("refused")
                .doesNotContain("gitlabhq/gitlab-test"));

    theCodecEndpointReadsThemBack(executions);
  }

  /** What the Temporal UI does with an encrypted history: POST its payloads to /codec/decode. */
  private void theCodecEndpointReadsThemBack(List<WorkflowExecution> executions) throws Exception {
    WorkflowExecution reviewApp =
        executions.stream()
            .filter(e -> e.getWorkflowId().equals("review-app/4242/mr-7"))
            .findFirst()
            .orElseThrow();
    History history = history(reviewApp);
    Payloads input = history.getEvents(0).getWorkflowExecutionStartedEventAttributes().getInput();
    Payloads signal =
        history.getEventsList().stream()
            .filter(HistoryEvent::hasWorkflowExecutionSignaledEventAttributes)
            .findFirst()
            .orElseThrow()
            .getWorkflowExecutionSignaledEventAttributes()
            .getInput();
    // Written under the retired key before the rotation: still readable.
    Payload beforeRotation =
        new AesGcmPayloadCodec(
                CodecKeyRing.of("old", Map.of("old", Base64.getDecoder().decode(OLD_KEY))))
            .encode(
                List.of(DefaultDataConverter.STANDARD_INSTANCE.toPayload("written with old").get()))
            .getFirst();

    Payloads request =
        Payloads.newBuilder()
            .addAllPayloads(input.getPayloadsList())
            .addAllPayloads(signal.getPayloadsList())
            .addPayloads(beforeRotation)
            .build();
    HttpResponse<String> response =
        send(
            HttpRequest.newBuilder(uri("/codec/decode"))
                .header("Authorization", "Bearer e2e-token")
                .header("Content-Type", "application/json")
                .header("X-Namespace", temporal.getOptions().getNamespace())
                .POST(HttpRequest.BodyPublishers.ofString(JsonFormat.printer().print(request))));
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    Payloads.Builder decoded = Payloads.newBuilder();
    JsonFormat.parser().merge(response.body(), decoded);
    List<Payload> plain = decoded.getPayloadsList();
    assertThat(plain).hasSize(request.getPayloadsCount());
    assertThat(plain)
        .allSatisfy(
            p ->
                assertThat(p.getMetadataMap().get("encoding").toStringUtf8())
                    .isEqualTo("json/plain"));
    JsonNode start = json.readTree(plain.getFirst().getData().toStringUtf8());
    assertThat(start.get("projectId").asLong()).isEqualTo(4242);
    assertThat(start.get("projectPath").asString()).isEqualTo("gitlabhq/gitlab-test");
    JsonNode deploy = json.readTree(plain.get(input.getPayloadsCount()).getData().toStringUtf8());
    assertThat(deploy.get("sha").asString()).isEqualTo(SHA);
    assertThat(plain.getLast().getData().toStringUtf8()).isEqualTo("\"written with old\"");

    // The UI's preflight, from the configured origin, needs no token.
    HttpResponse<String> preflight =
        send(
            HttpRequest.newBuilder(uri("/codec/decode"))
                .header("Origin", "http://localhost:8233")
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization,content-type,x-namespace")
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
    assertThat(preflight.statusCode()).isEqualTo(200);
    assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin"))
        .contains("http://localhost:8233");
  }

  /** Walks every message of an event; payloads and failures are checked, everything counted. */
  static final class Census {
    static final Map<String, Set<String>> SDK_BOOKKEEPING =
        Map.of(
            "LocalActivity", Set.of("activityId", "type", "time", "meta"),
            "Version", Set.of("changeId", "version", "versionSearchAttributeUpdated"));

    final List<String> violations = new ArrayList<>();
    final Map<String, Integer> counts = new TreeMap<>();
    int failures;

    void walk(Message message, String where, HistoryEvent event) {
      walk(message, where, event, null);
    }

    private void walk(Message message, String where, HistoryEvent event, String field) {
      if (message instanceof SearchAttributes) {
        // Indexed by the server for visibility queries, so plain by design; they hold ids,
        // phases and URLs only (see EphemeraSearchAttributes), never a payload's content.
        return;
      }
      if (message instanceof Payload payload) {
        check(payload, where, event, field);
        return;
      }
      if (message instanceof MarkerRecordedEventAttributes marker) {
        walkMarker(marker, where, event);
        return;
      }
      if (message instanceof Failure failure) {
        failures++;
        if (!ENCODED_FAILURE.equals(failure.getMessage())
            || !failure.getStackTrace().isEmpty()
            || !failure.hasEncodedAttributes()) {
          violations.add(where + " failure in clear: message '" + failure.getMessage() + "'");
        }
      }
      for (Map.Entry<FieldDescriptor, Object> entry : message.getAllFields().entrySet()) {
        FieldDescriptor descriptor = entry.getKey();
        if (descriptor.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
          continue;
        }
        // The field directly under the event's attributes (or the event itself, for its user
        // metadata) names what the payload is.
        String name = field;
        if (name == null
            && (isAttributes(message) || !descriptor.getName().endsWith("_attributes"))) {
          name = descriptor.getName();
        }
        if (descriptor.isRepeated()) {
          for (Object element : (List<?>) entry.getValue()) {
            walk((Message) element, where + "." + descriptor.getName(), event, name);
          }
        } else {
          walk((Message) entry.getValue(), where + "." + descriptor.getName(), event, name);
        }
      }
    }

    /**
     * The SDK writes its own bookkeeping in a marker with its standard converter, whatever the
     * client's, so that any worker can replay it: a local activity's id, type, time and attempt
     * metadata, a version's change id and number. These are names and numbers from workflow code,
     * never data; the local activity's {@code result} is user data and must be encrypted.
     */
    private void walkMarker(
        MarkerRecordedEventAttributes marker, String where, HistoryEvent event) {
      Set<String> bookkeeping = SDK_BOOKKEEPING.getOrDefault(marker.getMarkerName(), Set.of());
      marker
          .getDetailsMap()
          .forEach(
              (key, payloads) -> {
                if (bookkeeping.contains(key)) {
                  counts.merge("sdk marker bookkeeping (plain by design)", 1, Integer::sum);
                } else {
                  walk(payloads, where + ".details." + key, event, "details." + key);
                }
              });
      if (marker.hasFailure()) {
        walk(marker.getFailure(), where + ".failure", event, "failure");
      }
    }

    private static boolean isAttributes(Message message) {
      return message.getDescriptorForType().getName().endsWith("EventAttributes");
    }

    private void check(Payload payload, String where, HistoryEvent event, String field) {
      ByteString encoding = payload.getMetadataMap().get("encoding");
      ByteString keyId = payload.getMetadataMap().get("encryption-key-id");
      if (!AesGcmPayloadCodec.isEncrypted(payload)
          || keyId == null
          || !"new".equals(keyId.toStringUtf8())) {
        violations.add(
            where
                + " payload encoding="
                + (encoding == null ? null : encoding.toStringUtf8())
                + " key="
                + (keyId == null ? null : keyId.toStringUtf8()));
        return;
      }
      counts.merge(event.getEventType() + "." + field, 1, Integer::sum);
    }
  }

  private List<WorkflowExecution> allExecutions() {
    String namespace = temporal.getOptions().getNamespace();
    Map<String, WorkflowExecution> all = new LinkedHashMap<>();
    for (WorkflowExecutionInfo info :
        stubs
            .blockingStub()
            .listOpenWorkflowExecutions(
                ListOpenWorkflowExecutionsRequest.newBuilder()
                    .setNamespace(namespace)
                    .setMaximumPageSize(1000)
                    .build())
            .getExecutionsList()) {
      all.put(info.getExecution().getRunId(), info.getExecution());
    }
    for (WorkflowExecutionInfo info :
        stubs
            .blockingStub()
            .listClosedWorkflowExecutions(
                ListClosedWorkflowExecutionsRequest.newBuilder()
                    .setNamespace(namespace)
                    .setMaximumPageSize(1000)
                    .build())
            .getExecutionsList()) {
      all.put(info.getExecution().getRunId(), info.getExecution());
    }
    return List.copyOf(all.values());
  }

  private History history(WorkflowExecution execution) {
    History.Builder history = History.newBuilder();
    ByteString page = ByteString.EMPTY;
    do {
      GetWorkflowExecutionHistoryResponse response =
          stubs
              .blockingStub()
              .getWorkflowExecutionHistory(
                  GetWorkflowExecutionHistoryRequest.newBuilder()
                      .setNamespace(temporal.getOptions().getNamespace())
                      .setExecution(execution)
                      .setNextPageToken(page)
                      .build());
      history.addAllEvents(response.getHistory().getEventsList());
      page = response.getNextPageToken();
    } while (!page.isEmpty());
    return history.build();
  }

  private HttpResponse<String> postWebhook(String fixture, String idempotencyKey)
      throws IOException, InterruptedException {
    byte[] body = new ClassPathResource(fixture).getContentAsByteArray();
    return send(
        HttpRequest.newBuilder(uri("/webhooks/gitlab"))
            .header("Content-Type", "application/json")
            .header("X-Gitlab-Event", "Merge Request Hook")
            .header("X-Gitlab-Token", webhookToken)
            .header("Idempotency-Key", idempotencyKey)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  private JsonNode awaitStatus(String path, Predicate<JsonNode> done) throws Exception {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      HttpResponse<String> r =
          send(HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer e2e-token"));
      if (r.statusCode() == 200) {
        last = json.readTree(r.body());
        if (done.test(last)) {
          return last;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("condition not reached within " + DEADLINE + "; last status: " + last);
  }

  private HttpResponse<String> send(HttpRequest.Builder request)
      throws IOException, InterruptedException {
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    return v == null || v.isNull() ? null : v.asString();
  }
}
