package io.ephemera.api.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

import io.ephemera.apitest.ApiTestApplication;
import io.ephemera.apitest.DeployLog;
import io.ephemera.apitest.Fixtures;
import io.ephemera.common.TaskQueues;
import io.ephemera.common.WorkflowIds;
import io.ephemera.reviewapp.DeployRequest;
import io.ephemera.reviewapp.ReviewAppPhase;
import io.ephemera.reviewapp.ReviewAppResult;
import io.ephemera.reviewapp.ReviewAppStatus;
import io.ephemera.reviewapp.ReviewAppWorkflow;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionDescription;
import io.temporal.client.WorkflowNotFoundException;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.webmvc.test.autoconfigure.AutoConfigureMockMvc;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.ResultActions;
import org.springframework.test.web.servlet.request.MockHttpServletRequestBuilder;
import tools.jackson.databind.node.ObjectNode;

/**
 * The webhook receiver over HTTP, against the SDK's Temporal test server with a fake review app
 * workflow: what a delivery starts, signals, or leaves alone is read back from Temporal itself.
 */
@SpringBootTest(
    classes = ApiTestApplication.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureMockMvc
@ExtendWith(OutputCaptureExtension.class)
class GitLabWebhookControllerTest {
  static final String TOKEN = "test-webhook-token";

  /** The fixtures' source_branch, which the deploy signal carries for GitLab's Deployments API. */
  static final String BRANCH = "ms-viewport";

  static final String OPEN_SHA = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";
  static final String NEW_SHA = "b83d6e391c22777fca1ed3012fce84f633d7fed0";
  static final String PROBLEM_JSON = "application/problem+json";
  static final String PROBLEMS = "https://ephemera.io/problems/";

  /** Every test works on its own merge requests: the test server is shared by the whole class. */
  private static final AtomicLong NEXT_PROJECT = new AtomicLong(10_000);

  @Autowired MockMvc mvc;
  @Autowired WorkflowClient client;
  @LocalServerPort int port;

  @Test
  void goodTokenGets202AndStartsTheReviewAppWithADeploySignal() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    String workflowId = WorkflowIds.reviewApp(project, 7);

    deliver(Fixtures.mergeRequest("merge-request-open.json", project, 7), "delivery-1")
        .andExpect(status().isAccepted())
        .andExpect(content().contentTypeCompatibleWith(MediaType.APPLICATION_JSON))
        .andExpect(jsonPath("$.accepted").value("deploy"))
        .andExpect(jsonPath("$.workflowId").value(workflowId))
        .andExpect(jsonPath("$.sha").value(OPEN_SHA));

    WorkflowExecutionDescription description = describe(workflowId);
    assertThat(description.getWorkflowType()).isEqualTo(ReviewAppWorkflow.TYPE);
    assertThat(description.getTaskQueue()).isEqualTo(TaskQueues.REVIEW_APPS);
    assertThat(description.getStatus())
        .isEqualTo(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
    assertThat(awaitDeploys(workflowId, 1))
        .containsExactly(new DeployRequest(OPEN_SHA, "delivery-1", BRANCH));
    ReviewAppStatus status = queryStatus(workflowId);
    assertThat(status.projectId()).isEqualTo(project);
    assertThat(status.projectPath()).isEqualTo("gitlabhq/gitlab-test");
    assertThat(status.mrIid()).isEqualTo(7);
  }

  @Test
  void aRotatedTokenIsAcceptedToo() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    mvc.perform(
            webhook(Fixtures.toBytes(Fixtures.mergeRequest("merge-request-open.json", project, 1)))
                .header("X-Gitlab-Token", "rotated-webhook-token"))
        .andExpect(status().isAccepted());
  }

  @Test
  void wrongTokenGets401AndStartsNothing() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    mvc.perform(
            webhook(Fixtures.toBytes(Fixtures.mergeRequest("merge-request-open.json", project, 7)))
                .header("X-Gitlab-Token", "test-webhook-tokeN"))
        .andExpect(status().isUnauthorized())
        .andExpect(content().contentType(PROBLEM_JSON))
        .andExpect(jsonPath("$.type").value(PROBLEMS + "unauthorized"))
        .andExpect(jsonPath("$.status").value(401))
        .andExpect(
            jsonPath("$.detail").value(org.hamcrest.Matchers.containsString("does not match")));

    assertNoWorkflow(WorkflowIds.reviewApp(project, 7));
  }

  @Test
  void missingTokenGets401AndStartsNothing() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    mvc.perform(
            webhook(Fixtures.toBytes(Fixtures.mergeRequest("merge-request-open.json", project, 7))))
        .andExpect(status().isUnauthorized())
        .andExpect(content().contentType(PROBLEM_JSON))
        .andExpect(jsonPath("$.type").value(PROBLEMS + "unauthorized"))
        .andExpect(jsonPath("$.detail").value(org.hamcrest.Matchers.containsString("missing")));

    assertNoWorkflow(WorkflowIds.reviewApp(project, 7));
  }

  @Test
  void tokenIsCheckedBeforeTheBodyIsLookedAt() throws Exception {
    mvc.perform(webhook("{not json".getBytes(StandardCharsets.UTF_8)).header("X-Gitlab-Token", "x"))
        .andExpect(status().isUnauthorized());
  }

  @Test
  void malformedJsonGets400() throws Exception {
    mvc.perform(
            authorized(
                webhook("{\"object_kind\": \"merge_request\",".getBytes(StandardCharsets.UTF_8))))
        .andExpect(status().isBadRequest())
        .andExpect(content().contentType(PROBLEM_JSON))
        .andExpect(jsonPath("$.type").value(PROBLEMS + "malformed-payload"))
        .andExpect(
            jsonPath("$.detail")
                .value(org.hamcrest.Matchers.startsWith("The request body is not valid JSON")));
  }

  @Test
  void aBodyThatIsNotAJsonObjectGets400() throws Exception {
    mvc.perform(authorized(webhook("[1, 2]".getBytes(StandardCharsets.UTF_8))))
        .andExpect(status().isBadRequest())
        .andExpect(jsonPath("$.type").value(PROBLEMS + "malformed-payload"));
    mvc.perform(authorized(webhook(new byte[0])))
        .andExpect(status().isBadRequest())
        .andExpect(jsonPath("$.detail").value("The request body is empty."));
  }

  @Test
  void bodyOverTheLimitByContentLengthGets413() throws Exception {
    byte[] big =
        padded(
            Fixtures.mergeRequest("merge-request-open.json", NEXT_PROJECT.incrementAndGet(), 7),
            70 * 1024);
    mvc.perform(authorized(webhook(big)))
        .andExpect(status().isContentTooLarge())
        .andExpect(content().contentType(PROBLEM_JSON))
        .andExpect(jsonPath("$.type").value(PROBLEMS + "payload-too-large"))
        .andExpect(jsonPath("$.limit").value(64 * 1024));
  }

  @Test
  void chunkedBodyOverTheLimitGets413AndStartsNothing() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    byte[] big = padded(Fixtures.mergeRequest("merge-request-open.json", project, 7), 200 * 1024);
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/webhooks/gitlab"))
            .header("Content-Type", "application/json")
            .header("X-Gitlab-Event", "Merge Request Hook")
            .header("X-Gitlab-Token", TOKEN)
            // A stream of unknown length is sent chunked, without Content-Length.
            .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big)))
            .timeout(Duration.ofSeconds(10))
            .build();

    HttpResponse<String> response =
        HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(413);
    assertThat(response.headers().firstValue("Content-Type")).hasValue(PROBLEM_JSON);
    assertThat(response.body()).contains(PROBLEMS + "payload-too-large");
    assertNoWorkflow(WorkflowIds.reviewApp(project, 7));
  }

  @Test
  void chunkedBodyWithinTheLimitIsAccepted() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    byte[] body = Fixtures.toBytes(Fixtures.mergeRequest("merge-request-open.json", project, 7));
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/webhooks/gitlab"))
            .header("Content-Type", "application/json")
            .header("X-Gitlab-Token", TOKEN)
            .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)))
            .build();

    HttpResponse<String> response =
        HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
    assertThat(awaitDeploys(WorkflowIds.reviewApp(project, 7), 1)).hasSize(1);
  }

  @Test
  void forkMergeRequestIsIgnoredAndStartsNothing() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    ObjectNode fork = Fixtures.mergeRequest("merge-request-fork.json", project, 7);
    ((ObjectNode) fork.get("object_attributes")).put("source_project_id", 9001);

    deliver(fork, "fork-1")
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.ignored").value("fork"));

    assertNoWorkflow(WorkflowIds.reviewApp(project, 7));
  }

  @Test
  void forkMergeRequestIntoAProjectThatAllowsForksIsDeployed() throws Exception {
    ObjectNode fork = Fixtures.mergeRequest("merge-request-fork.json", 5150, 7);
    ((ObjectNode) fork.get("object_attributes")).put("source_project_id", 9001);

    deliver(fork, "fork-allowed-1")
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.accepted").value("deploy"));

    assertThat(awaitDeploys(WorkflowIds.reviewApp(5150, 7), 1)).hasSize(1);
  }

  @ParameterizedTest
  @CsvSource({"push.json, Push Hook, event push", "pipeline.json, Pipeline Hook, event pipeline"})
  void eventsOtherThanMergeRequestsAreIgnored(String fixture, String event, String why)
      throws Exception {
    mvc.perform(
            authorized(webhook(Fixtures.bytes(fixture)))
                .header("X-Gitlab-Event", event)
                .header("Idempotency-Key", "other-" + fixture))
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.ignored").value(why))
        .andExpect(jsonPath("$.accepted").doesNotExist());
  }

  @Test
  void anEventWithoutObjectKindIsIgnoredWhenTheHeaderNamesAnotherHook() throws Exception {
    mvc.perform(
            post("/webhooks/gitlab")
                .contentType(MediaType.APPLICATION_JSON)
                .header("X-Gitlab-Token", TOKEN)
                .header("X-Gitlab-Event", "System Hook")
                .content("{\"event_name\": \"project_create\"}"))
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.ignored").value("event System Hook"));
  }

  @Test
  void aMergeRequestHookWithoutObjectKindGets400() throws Exception {
    mvc.perform(authorized(webhook("{\"project\": {}}".getBytes(StandardCharsets.UTF_8))))
        .andExpect(status().isBadRequest())
        .andExpect(jsonPath("$.field").value("object_kind"));
  }

  @Test
  void redeliveryWithTheSameIdempotencyKeyReachesTheSameWorkflowWithTheSameKey() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    String workflowId = WorkflowIds.reviewApp(project, 7);
    ObjectNode open = Fixtures.mergeRequest("merge-request-open.json", project, 7);

    deliver(open, "same-delivery").andExpect(status().isAccepted());
    String firstRun = describe(workflowId).getExecution().getRunId();
    deliver(open, "same-delivery")
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.workflowId").value(workflowId));

    // One run (USE_EXISTING), and both signals carry the key the workflow deduplicates on.
    assertThat(describe(workflowId).getExecution().getRunId()).isEqualTo(firstRun);
    assertThat(awaitDeploys(workflowId, 2))
        .containsExactly(
            new DeployRequest(OPEN_SHA, "same-delivery", BRANCH),
            new DeployRequest(OPEN_SHA, "same-delivery", BRANCH));
  }

  @Test
  void withoutAnIdempotencyKeyTheKeyIsTheDigestOfTheBody() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    String workflowId = WorkflowIds.reviewApp(project, 7);
    byte[] body = Fixtures.toBytes(Fixtures.mergeRequest("merge-request-open.json", project, 7));
    String expected =
        "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));

    mvc.perform(authorized(webhook(body))).andExpect(status().isAccepted());
    mvc.perform(authorized(webhook(body))).andExpect(status().isAccepted());

    assertThat(awaitDeploys(workflowId, 2))
        .extracting(DeployRequest::idempotencyKey)
        .containsExactly(expected, expected);
  }

  @Test
  void anIdempotencyKeyWithControlCharactersGets400() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    mvc.perform(
            authorized(
                    webhook(
                        Fixtures.toBytes(
                            Fixtures.mergeRequest("merge-request-open.json", project, 7))))
                .header("Idempotency-Key", "a b"))
        .andExpect(status().isBadRequest())
        .andExpect(jsonPath("$.field").value("Idempotency-Key"));
    assertNoWorkflow(WorkflowIds.reviewApp(project, 7));
  }

  @Test
  void updateWithANewCommitDeploysTheNewHeadToTheExistingWorkflow() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    String workflowId = WorkflowIds.reviewApp(project, 7);
    deliver(Fixtures.mergeRequest("merge-request-open.json", project, 7), "open-1")
        .andExpect(status().isAccepted());
    String run = describe(workflowId).getExecution().getRunId();

    deliver(Fixtures.mergeRequest("merge-request-update-new-commit.json", project, 7), "push-2")
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.accepted").value("deploy"))
        .andExpect(jsonPath("$.sha").value(NEW_SHA));

    assertThat(describe(workflowId).getExecution().getRunId()).isEqualTo(run);
    assertThat(awaitDeploys(workflowId, 2))
        .containsExactly(
            new DeployRequest(OPEN_SHA, "open-1", BRANCH),
            new DeployRequest(NEW_SHA, "push-2", BRANCH));
  }

  @Test
  void updateWithoutANewCommitIsIgnored() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    deliver(Fixtures.mergeRequest("merge-request-update-title.json", project, 7), "title-1")
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.ignored").value("update without a new commit"));
    assertNoWorkflow(WorkflowIds.reviewApp(project, 7));
  }

  @Test
  void otherActionsAreIgnoredWithTheActionNamed() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    deliver(Fixtures.mergeRequest("merge-request-approved.json", project, 7), "approved-1")
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.ignored").value("action approved"));
    assertNoWorkflow(WorkflowIds.reviewApp(project, 7));
  }

  @Test
  void closeWithoutAReviewAppIsANoOp() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    deliver(Fixtures.mergeRequest("merge-request-close.json", project, 7), "close-1")
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.ignored").value("no review app for this merge request"));
    assertNoWorkflow(WorkflowIds.reviewApp(project, 7));
  }

  @Test
  void closeStopsTheReviewAppAndAFurtherCloseIsANoOp() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    String workflowId = WorkflowIds.reviewApp(project, 7);
    deliver(Fixtures.mergeRequest("merge-request-open.json", project, 7), "open-1")
        .andExpect(status().isAccepted());

    deliver(Fixtures.mergeRequest("merge-request-close.json", project, 7), "close-1")
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.accepted").value("stop"))
        .andExpect(jsonPath("$.workflowId").value(workflowId));

    ReviewAppResult result =
        client.newUntypedWorkflowStub(workflowId).getResult(ReviewAppResult.class);
    assertThat(result.finalStatus().phase()).isEqualTo(ReviewAppPhase.STOPPED);
    assertThat(result.finalStatus().stopReason()).isEqualTo("merge request closed");

    // Signalling a finished workflow is a no-op, not an error GitLab would retry on.
    deliver(Fixtures.mergeRequest("merge-request-close.json", project, 7), "close-2")
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.ignored").value("no review app for this merge request"));
  }

  @Test
  void mergeStopsTheReviewApp() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    String workflowId = WorkflowIds.reviewApp(project, 7);
    deliver(Fixtures.mergeRequest("merge-request-open.json", project, 7), "open-1")
        .andExpect(status().isAccepted());

    deliver(Fixtures.mergeRequest("merge-request-merge.json", project, 7), "merge-1")
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.accepted").value("stop"));

    ReviewAppResult result =
        client.newUntypedWorkflowStub(workflowId).getResult(ReviewAppResult.class);
    assertThat(result.finalStatus().stopReason()).isEqualTo("merge request merged");
  }

  @Test
  void reopenAfterTheReviewAppFinishedStartsANewRun() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    String workflowId = WorkflowIds.reviewApp(project, 7);
    deliver(Fixtures.mergeRequest("merge-request-open.json", project, 7), "open-1");
    deliver(Fixtures.mergeRequest("merge-request-close.json", project, 7), "close-1");
    client.newUntypedWorkflowStub(workflowId).getResult(ReviewAppResult.class);
    String closedRun = describe(workflowId).getExecution().getRunId();

    ObjectNode reopen = Fixtures.mergeRequest("merge-request-open.json", project, 7);
    ((ObjectNode) reopen.get("object_attributes")).put("action", "reopen");
    deliver(reopen, "reopen-1")
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.accepted").value("deploy"));

    WorkflowExecutionDescription now = describe(workflowId);
    assertThat(now.getExecution().getRunId()).isNotEqualTo(closedRun);
    assertThat(now.getStatus())
        .isEqualTo(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
    assertThat(awaitDeploys(workflowId, 1))
        .containsExactly(new DeployRequest(OPEN_SHA, "reopen-1", BRANCH));
  }

  @ParameterizedTest(name = "{0} = {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "object_attributes.iid | <absent> | object_attributes.iid",
        "object_attributes.iid | \"7\" | object_attributes.iid",
        "object_attributes.iid | 0 | object_attributes.iid",
        "object_attributes.iid | 7.5 | object_attributes.iid",
        "object_attributes.iid | 99999999999999999999999 | object_attributes.iid",
        "project.id | -1 | project.id",
        "project.id | <absent> | project.id",
        "project | [] | project",
        "project.path_with_namespace | 42 | project.path_with_namespace",
        "project.path_with_namespace | <absent> | project.path_with_namespace",
        "project.path_with_namespace | \"группа/проект\" | project.path_with_namespace",
        "project.path_with_namespace | \"group/../etc\" | project.path_with_namespace",
        "project.path_with_namespace | \"-group/project\" | project.path_with_namespace",
        "project.path_with_namespace | \"group/project.git\" | project.path_with_namespace",
        "project.path_with_namespace | \"group//project\" | project.path_with_namespace",
        "project.path_with_namespace | \" \" | project.path_with_namespace",
        "object_attributes.action | <absent> | object_attributes.action",
        "object_attributes.source_project_id | 0 | object_attributes.source_project_id",
        "object_attributes.last_commit.id | \"not-a-sha\" | object_attributes.last_commit.id",
        "object_attributes.last_commit.id | \"da1560886d4f094c3e6c9ef40349f7d38b5d27dz\" | object_attributes.last_commit.id",
        "object_attributes.last_commit.id | <absent> | object_attributes.last_commit.id",
        "object_attributes.oldrev | \"abc\" | object_attributes.oldrev",
        "object_attributes | <absent> | object_attributes"
      })
  void invalidFieldsGet400NamingTheFieldAndStartNothing(String path, String json, String field)
      throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    ObjectNode root = Fixtures.mergeRequest("merge-request-open.json", project, 7);
    set(root, path, json);

    deliver(root, "invalid-1")
        .andExpect(status().isBadRequest())
        .andExpect(content().contentType(PROBLEM_JSON))
        .andExpect(jsonPath("$.type").value(PROBLEMS + "invalid-field"))
        .andExpect(jsonPath("$.field").value(field))
        .andExpect(jsonPath("$.detail").value(org.hamcrest.Matchers.containsString(field)));

    assertNoWorkflow(WorkflowIds.reviewApp(project, 7));
  }

  @Test
  void a64CharacterShaIsAccepted() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    String sha256 = "a".repeat(64);
    ObjectNode root = Fixtures.mergeRequest("merge-request-open.json", project, 7);
    ((ObjectNode) root.get("object_attributes").get("last_commit")).put("id", sha256.toUpperCase());

    deliver(root, "sha256-1")
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.sha").value(sha256));
  }

  @Test
  void unicodeAndVeryLongNamesAreCarriedAsData() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    String workflowId = WorkflowIds.reviewApp(project, 7);
    // GitLab paths are ASCII; the longest it allows, three segments deep. Titles are free text.
    String path = "Group_1/" + "x".repeat(255) + "/" + "y.z-".repeat(63) + "end";
    ObjectNode root = Fixtures.mergeRequest("merge-request-open.json", project, 7);
    ((ObjectNode) root.get("project")).put("path_with_namespace", path);
    ((ObjectNode) root.get("object_attributes")).put("title", "Ünïcödé 标题 " + "🎉".repeat(5000));

    deliver(root, "unicode-1").andExpect(status().isAccepted());

    awaitDeploys(workflowId, 1);
    ReviewAppStatus status = queryStatus(workflowId);
    assertThat(status.projectPath()).isEqualTo(path);
  }

  @Test
  void eachDeliveryIsLoggedOnceWithoutTokenOrBody(CapturedOutput output) throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    ObjectNode root = Fixtures.mergeRequest("merge-request-open.json", project, 7);
    ((ObjectNode) root.get("object_attributes")).put("title", "secret-looking-title-xyzzy");

    deliver(root, "logged-1").andExpect(status().isAccepted());

    String line =
        output.getOut().lines().filter(l -> l.contains("key=logged-1")).findFirst().orElseThrow();
    assertThat(line)
        .contains("GitLab delivery", "event=merge_request", "project=" + project, "iid=7")
        .contains("action=open", "outcome=deploy");
    assertThat(output.getOut()).doesNotContain(TOKEN).doesNotContain("xyzzy");
  }

  private ResultActions deliver(ObjectNode payload, String idempotencyKey) throws Exception {
    return mvc.perform(
        authorized(webhook(Fixtures.toBytes(payload))).header("Idempotency-Key", idempotencyKey));
  }

  private static MockHttpServletRequestBuilder webhook(byte[] body) {
    return post("/webhooks/gitlab")
        .contentType(MediaType.APPLICATION_JSON)
        .header("X-Gitlab-Event", "Merge Request Hook")
        .content(body);
  }

  private static MockHttpServletRequestBuilder authorized(MockHttpServletRequestBuilder request) {
    return request.header("X-Gitlab-Token", TOKEN);
  }

  /** Sets (or, for {@code <absent>}, removes) a dotted path to a JSON literal. */
  private static void set(ObjectNode root, String path, String json) {
    String[] parts = path.split("\\.");
    ObjectNode parent = root;
    for (int i = 0; i < parts.length - 1; i++) {
      parent = (ObjectNode) parent.get(parts[i]);
    }
    String last = parts[parts.length - 1];
    if ("<absent>".equals(json)) {
      parent.remove(last);
    } else {
      parent.set(last, tools.jackson.databind.json.JsonMapper.builder().build().readTree(json));
    }
  }

  /** A valid payload grown past {@code size} bytes by an extra field GitLab would not send. */
  private static byte[] padded(ObjectNode payload, int size) {
    payload.put("padding", "p".repeat(size));
    return Fixtures.toBytes(payload);
  }

  private WorkflowExecutionDescription describe(String workflowId) {
    return client.newUntypedWorkflowStub(workflowId).describe();
  }

  private ReviewAppStatus queryStatus(String workflowId) {
    return client
        .newUntypedWorkflowStub(workflowId)
        .query(ReviewAppWorkflow.QUERY_STATUS, ReviewAppStatus.class);
  }

  private List<DeployRequest> awaitDeploys(String workflowId, int count) {
    return await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                List.of(
                    client
                        .newUntypedWorkflowStub(workflowId)
                        .query(DeployLog.QUERY, DeployRequest[].class)),
            deploys -> deploys.size() >= count);
  }

  private void assertNoWorkflow(String workflowId) {
    assertThatThrownBy(() -> describe(workflowId)).isInstanceOf(WorkflowNotFoundException.class);
  }
}
