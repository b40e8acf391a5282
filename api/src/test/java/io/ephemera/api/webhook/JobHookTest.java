package io.ephemera.api.webhook;

import static io.ephemera.apitest.FakeRunnerWorkflow.runnerIdOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.header;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

import io.ephemera.apitest.ApiTestApplication;
import io.ephemera.apitest.FakeRouting;
import io.ephemera.apitest.Fixtures;
import io.ephemera.apitest.JobEventLog;
import io.ephemera.common.TaskQueues;
import io.ephemera.common.WorkflowIds;
import io.ephemera.runner.RunnerPhase;
import io.ephemera.runner.RunnerStatus;
import io.ephemera.runner.RunnerType;
import io.ephemera.runner.RunnerWorkflow;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionDescription;
import io.temporal.client.WorkflowNotFoundException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.hamcrest.Matchers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.webmvc.test.autoconfigure.AutoConfigureMockMvc;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.ResultActions;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Job Hooks over HTTP, against the SDK's Temporal test server with a fake runner workflow and
 * stand-ins for the routing table and the Jobs API: what a delivery starts or signals is read back
 * from Temporal itself.
 */
@SpringBootTest(
    classes = ApiTestApplication.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureMockMvc
@ExtendWith(OutputCaptureExtension.class)
class JobHookTest {
  static final String TOKEN = "test-webhook-token";
  static final String PROBLEMS = "https://ephemera.io/problems/";

  /** Every test works on its own projects and jobs: the test server is shared. */
  private static final AtomicLong NEXT_PROJECT = new AtomicLong(30_000);

  private static final AtomicLong NEXT_JOB = new AtomicLong(7_000_000);

  @Autowired MockMvc mvc;
  @Autowired WorkflowClient client;
  @Autowired FakeRouting routing;

  @Test
  void aPendingJobStartsItsRunnerWithTheRouteChosenByThePayloadsTags() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long job = NEXT_JOB.incrementAndGet();
    String workflowId = WorkflowIds.runner(project, job);
    ObjectNode pending = Fixtures.job("job-pending.json", project, job);
    pending.putArray("tag_list").add("ec2").add(" linux ").add("ec2");

    deliver(pending)
        .andExpect(status().isAccepted())
        .andExpect(content().contentTypeCompatibleWith(MediaType.APPLICATION_JSON))
        .andExpect(jsonPath("$.accepted").value("runner"))
        .andExpect(jsonPath("$.workflowId").value(workflowId))
        .andExpect(jsonPath("$.route").value("ec2-large"))
        .andExpect(jsonPath("$.tags", Matchers.contains("ec2", "linux")))
        .andExpect(jsonPath("$.tagsFrom").value("payload"));

    WorkflowExecutionDescription description = describe(workflowId);
    assertThat(description.getWorkflowType()).isEqualTo(RunnerWorkflow.TYPE);
    assertThat(description.getTaskQueue()).isEqualTo(TaskQueues.RUNNERS);
    assertThat(description.getStatus())
        .isEqualTo(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
    RunnerStatus status = queryStatus(workflowId);
    assertThat(status.projectId()).isEqualTo(project);
    assertThat(status.jobId()).isEqualTo(job);
    assertThat(status.jobName()).isEqualTo("test");
    assertThat(status.route()).isEqualTo("ec2-large");
    assertThat(status.type()).isEqualTo(RunnerType.EC2);
    assertThat(routing.routeCalls(project))
        .containsExactly(new FakeRouting.RouteCall(project, "test", List.of("ec2", "linux")));
    assertThat(routing.tagsLookedUp(job)).isFalse();
  }

  @Test
  void withoutTagsInThePayloadTheJobsApiIsAsked() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long job = NEXT_JOB.incrementAndGet();
    routing.jobTags(job, List.of("docker", "gpu"));

    deliver(Fixtures.job("job-pending.json", project, job))
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.accepted").value("runner"))
        .andExpect(jsonPath("$.route").value("k8s-small"))
        .andExpect(jsonPath("$.tags", Matchers.contains("docker", "gpu")))
        .andExpect(jsonPath("$.tagsFrom").value("jobs-api"));

    assertThat(routing.tagsLookedUp(job)).isTrue();
    assertThat(routing.routeCalls(project))
        .containsExactly(new FakeRouting.RouteCall(project, "test", List.of("docker", "gpu")));
  }

  @Test
  void theRunnersTagsAndTheRefTagFlagAreNotTakenForTheJobsTags() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long job = NEXT_JOB.incrementAndGet();
    ObjectNode pending = Fixtures.job("job-pending.json", project, job);
    pending.put("tag", true);
    Fixtures.onRunner(pending, 55, "some runner");
    ((ObjectNode) pending.get("runner")).putArray("tags").add("ec2");

    deliver(pending)
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.route").value("k8s-small"))
        .andExpect(jsonPath("$.tags", Matchers.contains("docker")))
        .andExpect(jsonPath("$.tagsFrom").value("jobs-api"));
  }

  @Test
  void aRedeliveredPendingJobReachesTheSameRunnerWorkflow() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long job = NEXT_JOB.incrementAndGet();
    String workflowId = WorkflowIds.runner(project, job);
    ObjectNode pending = Fixtures.job("job-pending.json", project, job);

    deliver(pending).andExpect(status().isAccepted());
    String firstRun = describe(workflowId).getExecution().getRunId();
    deliver(pending)
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.accepted").value("runner"))
        .andExpect(jsonPath("$.workflowId").value(workflowId));

    assertThat(describe(workflowId).getExecution().getRunId()).isEqualTo(firstRun);
    assertThat(describe(workflowId).getStatus())
        .isEqualTo(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
  }

  @Test
  void aPendingJobWhoseRunnerAlreadyFinishedGetsNoSecondRunner() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long job = NEXT_JOB.incrementAndGet();
    String workflowId = WorkflowIds.runner(project, job);
    ObjectNode pending = Fixtures.job("job-pending.json", project, job);
    deliver(pending).andExpect(status().isAccepted());
    client.newUntypedWorkflowStub(workflowId).signal(RunnerWorkflow.SIGNAL_STOP, "done");
    client.newUntypedWorkflowStub(workflowId).getResult(RunnerStatus.class);
    String closedRun = describe(workflowId).getExecution().getRunId();

    deliver(pending)
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.ignored").value("the runner of job " + job + " already finished"));

    assertThat(describe(workflowId).getExecution().getRunId()).isEqualTo(closedRun);
  }

  @Test
  void aPendingJobWhoseRunnerWorkflowWasTerminatedGetsANewRunner() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long job = NEXT_JOB.incrementAndGet();
    String workflowId = WorkflowIds.runner(project, job);
    ObjectNode pending = Fixtures.job("job-pending.json", project, job);
    deliver(pending).andExpect(status().isAccepted());
    String terminatedRun = describe(workflowId).getExecution().getRunId();
    client.newUntypedWorkflowStub(workflowId).terminate("test");

    deliver(pending)
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.accepted").value("runner"));

    WorkflowExecutionDescription now = describe(workflowId);
    assertThat(now.getExecution().getRunId()).isNotEqualTo(terminatedRun);
    assertThat(now.getStatus())
        .isEqualTo(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
  }

  @Test
  void aJobOfAProjectNotServedIsIgnored() throws Exception {
    long job = NEXT_JOB.incrementAndGet();

    deliver(Fixtures.job("job-pending.json", FakeRouting.UNSERVED_PROJECT, job))
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.ignored").value("project not served"))
        .andExpect(jsonPath("$.accepted").doesNotExist());

    assertNoWorkflow(WorkflowIds.runner(FakeRouting.UNSERVED_PROJECT, job));
    assertThat(routing.tagsLookedUp(job)).isFalse();
  }

  @Test
  void aJobWithoutARouteIsIgnoredNamingTheJobAndItsTags() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long job = NEXT_JOB.incrementAndGet();
    ObjectNode pending = Fixtures.job("job-pending.json", project, job);
    pending.put("build_name", "lint-yaml");
    pending.putArray("build_tags").add("docker").add("arm64");

    deliver(pending)
        .andExpect(status().isAccepted())
        .andExpect(
            jsonPath("$.ignored").value("no route for job lint-yaml with tags [docker, arm64]"));

    assertNoWorkflow(WorkflowIds.runner(project, job));
  }

  @Test
  void aFailingJobsApiFallsBackToNoTagsAndStillStartsTheRunner(CapturedOutput output)
      throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long job = NEXT_JOB.incrementAndGet();
    routing.failTagsOf(job);

    deliver(Fixtures.job("job-pending.json", project, job))
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.accepted").value("runner"))
        .andExpect(jsonPath("$.tags", Matchers.empty()))
        .andExpect(jsonPath("$.tagsFrom").value("none"));

    assertThat(routing.routeCalls(project))
        .containsExactly(new FakeRouting.RouteCall(project, "test", List.of()));
    assertThat(describe(WorkflowIds.runner(project, job)).getStatus())
        .isEqualTo(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
    assertThat(output.getOut())
        .contains("job " + job + " (IllegalStateException); routing without tags")
        .doesNotContain(FakeRouting.SECRET_IN_FAILURE);
  }

  @Test
  void aSlowJobsApiCostsAtMostAQuarterOfTheDeliveryTimeout() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long job = NEXT_JOB.incrementAndGet();
    routing.slowTagsOf(job);
    long started = System.nanoTime();

    deliver(Fixtures.job("job-pending.json", project, job))
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.accepted").value("runner"))
        .andExpect(jsonPath("$.tagsFrom").value("none"));

    // delivery-timeout is 8 s by default: 2 s for the Jobs API, the rest for routing and Temporal.
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(4));
  }

  @Test
  void aRoutingTableThatCannotBeReadIs503AndStartsNothing() throws Exception {
    long job = NEXT_JOB.incrementAndGet();

    deliver(Fixtures.job("job-pending.json", FakeRouting.BROKEN_ROUTING_PROJECT, job))
        .andExpect(status().isServiceUnavailable())
        .andExpect(content().contentType("application/problem+json"))
        .andExpect(header().string("Retry-After", "10"))
        .andExpect(jsonPath("$.type").value(PROBLEMS + "routing-unavailable"))
        .andExpect(jsonPath("$.detail").value(Matchers.containsString("Recent events")));

    assertNoWorkflow(WorkflowIds.runner(FakeRouting.BROKEN_ROUTING_PROJECT, job));
  }

  @Test
  void aRunningJobIsSignalledToTheRunnersOwnerAndToItsOwnWorkflow() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long owner = NEXT_JOB.incrementAndGet();
    long job = NEXT_JOB.incrementAndGet();
    String ownerId = WorkflowIds.runner(project, owner);
    String ownId = WorkflowIds.runner(project, job);
    startRunner(project, owner);
    startRunner(project, job);
    // The runner made for `owner` took `job`: same tags, so GitLab may hand it any such job.
    ObjectNode running =
        Fixtures.onRunner(
            Fixtures.job("job-running.json", project, job),
            runnerIdOf(owner),
            WorkflowIds.runnerDescription(ownerId));

    deliver(running)
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.accepted").value("jobStarted"))
        .andExpect(jsonPath("$.workflowIds", Matchers.contains(ownerId, ownId)));

    String event = "jobStarted:" + job + ":running:" + runnerIdOf(owner);
    assertThat(awaitJobEvents(ownerId, 1)).containsExactly(event);
    assertThat(awaitJobEvents(ownId, 1)).containsExactly(event);
    RunnerStatus status = queryStatus(ownerId);
    assertThat(status.phase()).isEqualTo(RunnerPhase.RUNNING);
    assertThat(status.ranJobId()).isEqualTo(job);
  }

  @Test
  void aJobThatSucceededOnAnotherJobsRunnerFinishesThatRunnersWorkflow() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long owner = NEXT_JOB.incrementAndGet();
    long job = NEXT_JOB.incrementAndGet();
    String ownerId = WorkflowIds.runner(project, owner);
    String ownId = WorkflowIds.runner(project, job);
    startRunner(project, owner);
    startRunner(project, job);
    ObjectNode success =
        Fixtures.onRunner(
            Fixtures.job("job-success.json", project, job),
            runnerIdOf(owner),
            WorkflowIds.runnerDescription(ownerId));

    deliver(success)
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.accepted").value("jobFinished"))
        .andExpect(jsonPath("$.workflowIds", Matchers.contains(ownerId, ownId)));

    RunnerStatus result = client.newUntypedWorkflowStub(ownerId).getResult(RunnerStatus.class);
    assertThat(result.phase()).isEqualTo(RunnerPhase.FINISHED);
    assertThat(result.jobsRun()).isEqualTo(1);
    assertThat(result.ranJobId()).isEqualTo(job);
    assertThat(result.outcome()).isEqualTo("job " + job + " success");
    // The job's own workflow heard of it too; whose runner it was is for it to judge.
    assertThat(awaitJobEvents(ownId, 1))
        .containsExactly("jobFinished:" + job + ":success:" + runnerIdOf(owner));

    // A redelivery finds the owner closed: a no-op there, not an error.
    deliver(success)
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.workflowIds", Matchers.contains(ownId)));
  }

  @Test
  void aJobCanceledBeforePickupFinishesItsOwnWorkflow() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long job = NEXT_JOB.incrementAndGet();
    String ownId = WorkflowIds.runner(project, job);
    startRunner(project, job);

    deliver(Fixtures.job("job-canceled.json", project, job))
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.accepted").value("jobFinished"))
        .andExpect(jsonPath("$.workflowIds", Matchers.contains(ownId)));

    RunnerStatus result = client.newUntypedWorkflowStub(ownId).getResult(RunnerStatus.class);
    assertThat(result.outcome()).isEqualTo("job canceled before pickup");
    assertThat(result.jobsRun()).isZero();
  }

  @Test
  void aJobOnARunnerEphemeraDidNotMakeReachesOnlyTheJobsOwnWorkflow() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long job = NEXT_JOB.incrementAndGet();
    String ownId = WorkflowIds.runner(project, job);
    startRunner(project, job);

    deliver(
            Fixtures.onRunner(
                Fixtures.job("job-running.json", project, job),
                380987,
                "shared-runners-manager-6.gitlab.com"))
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.accepted").value("jobStarted"))
        .andExpect(jsonPath("$.workflowIds", Matchers.contains(ownId)));
    assertThat(awaitJobEvents(ownId, 1)).containsExactly("jobStarted:" + job + ":running:380987");

    long unserved = NEXT_JOB.incrementAndGet();
    deliver(
            Fixtures.onRunner(
                Fixtures.job("job-success.json", project, unserved),
                380987,
                "ephemera not-a-workflow-id"))
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.ignored").value("no runner workflow for job " + unserved));
  }

  @ParameterizedTest
  @ValueSource(strings = {"created", "waiting_for_resource", "preparing", "some_future_status"})
  void statusesWithNothingForARunnerToDoAreIgnored(String buildStatus) throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long job = NEXT_JOB.incrementAndGet();
    ObjectNode hook = Fixtures.job("job-pending.json", project, job);
    hook.put("build_status", buildStatus);

    deliver(hook)
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.ignored").value("status " + buildStatus));

    assertNoWorkflow(WorkflowIds.runner(project, job));
  }

  @ParameterizedTest(name = "{0} = {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "build_id | <absent> | build_id",
        "build_id | 0 | build_id",
        "build_id | \"1977\" | build_id",
        "build_id | 99999999999999999999999 | build_id",
        "project_id | -3 | project_id",
        "project_id | <absent> | project_id",
        "build_status | <absent> | build_status",
        "build_status | 42 | build_status",
        "build_status | \"pending; drop\" | build_status",
        "build_name | <absent> | build_name",
        "build_name | 7 | build_name",
        "runner | \"r\" | runner",
        "runner | {\"description\": \"x\"} | runner.id",
        "runner | {\"id\": -1} | runner.id",
        "runner | {\"id\": 5, \"description\": 5} | runner.description",
        "tag_list | \"docker\" | tag_list",
        "tag_list | [1] | tag_list",
        "build_tags | {} | build_tags",
        "project | [] | project",
        "project_name | \" \" | project_name"
      })
  void invalidFieldsGet400NamingTheFieldAndStartNothing(String field, String json, String named)
      throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long job = NEXT_JOB.incrementAndGet();
    ObjectNode pending = Fixtures.job("job-pending.json", project, job);
    if ("project_name".equals(field)) {
      // project_name is only read when project.path_with_namespace is absent.
      pending.remove("project");
    }
    if ("<absent>".equals(json)) {
      pending.remove(field);
    } else {
      pending.set(field, JsonMapper.builder().build().readTree(json));
    }

    deliver(pending)
        .andExpect(status().isBadRequest())
        .andExpect(content().contentType("application/problem+json"))
        .andExpect(jsonPath("$.type").value(PROBLEMS + "invalid-field"))
        .andExpect(jsonPath("$.field").value(named))
        .andExpect(jsonPath("$.detail").value(Matchers.containsString(named)));

    assertNoWorkflow(WorkflowIds.runner(project, job));
  }

  @Test
  void thePathFallsBackToProjectNameAndIsRequiredToStartARunner() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long job = NEXT_JOB.incrementAndGet();
    ObjectNode pending = Fixtures.job("job-pending.json", project, job);
    pending.remove("project");
    deliver(pending).andExpect(status().isAccepted());

    long other = NEXT_JOB.incrementAndGet();
    ObjectNode pathless = Fixtures.job("job-pending.json", project, other);
    pathless.remove("project");
    pathless.remove("project_name");
    deliver(pathless)
        .andExpect(status().isBadRequest())
        .andExpect(jsonPath("$.field").value("project.path_with_namespace"));
    assertNoWorkflow(WorkflowIds.runner(project, other));
  }

  @Test
  void aJobHookWithoutObjectKindGets400() throws Exception {
    mvc.perform(
            post("/webhooks/gitlab")
                .contentType(MediaType.APPLICATION_JSON)
                .header("X-Gitlab-Token", TOKEN)
                .header("X-Gitlab-Event", "Job Hook")
                .content("{\"build_id\": 1}"))
        .andExpect(status().isBadRequest())
        .andExpect(jsonPath("$.field").value("object_kind"));
  }

  @Test
  void eachJobDeliveryIsLoggedOnceWithoutTokenOrBody(CapturedOutput output) throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long job = NEXT_JOB.incrementAndGet();
    ObjectNode pending = Fixtures.job("job-pending.json", project, job);
    pending.put("build_name", "lint\nforged-line");
    ((ObjectNode) pending.get("commit")).put("message", "secret-looking-message-xyzzy");

    mvc.perform(
            post("/webhooks/gitlab")
                .contentType(MediaType.APPLICATION_JSON)
                .header("X-Gitlab-Token", TOKEN)
                .header("X-Gitlab-Event", "Job Hook")
                .header("Idempotency-Key", "job-logged-1")
                .content(Fixtures.toBytes(pending)))
        .andExpect(status().isAccepted());

    List<String> lines = output.getOut().lines().filter(l -> l.contains("job-logged-1")).toList();
    assertThat(lines).hasSize(1);
    assertThat(lines.getFirst())
        .contains("GitLab delivery event=build", "project=" + project, "job=" + job)
        .contains("status=pending", "outcome=ignored (no route for job lint?forged-line");
    assertThat(output.getOut()).doesNotContain(TOKEN).doesNotContain("xyzzy");
  }

  private void startRunner(long project, long job) throws Exception {
    deliver(Fixtures.job("job-pending.json", project, job))
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.accepted").value("runner"));
  }

  private ResultActions deliver(ObjectNode payload) throws Exception {
    return mvc.perform(
        post("/webhooks/gitlab")
            .contentType(MediaType.APPLICATION_JSON)
            .header("X-Gitlab-Token", TOKEN)
            .header("X-Gitlab-Event", "Job Hook")
            .content(Fixtures.toBytes(payload)));
  }

  private WorkflowExecutionDescription describe(String workflowId) {
    return client.newUntypedWorkflowStub(workflowId).describe();
  }

  private RunnerStatus queryStatus(String workflowId) {
    return client
        .newUntypedWorkflowStub(workflowId)
        .query(RunnerWorkflow.QUERY_STATUS, RunnerStatus.class);
  }

  private List<String> awaitJobEvents(String workflowId, int count) {
    return await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                List.of(
                    client
                        .newUntypedWorkflowStub(workflowId)
                        .query(JobEventLog.QUERY, String[].class)),
            events -> events.size() >= count);
  }

  private void assertNoWorkflow(String workflowId) {
    assertThatThrownBy(() -> describe(workflowId)).isInstanceOf(WorkflowNotFoundException.class);
  }
}
