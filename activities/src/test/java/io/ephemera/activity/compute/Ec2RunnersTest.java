package io.ephemera.activity.compute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ephemera.activity.config.RunnerProperties;
import io.ephemera.common.FailureType;
import io.ephemera.runner.RunnerRoute;
import io.ephemera.runner.RunnerType;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ssm.SsmClient;

/**
 * The EC2 adapter through the real AWS SDK over HTTP, against MockWebServer answering with the EC2
 * Query API's documented XML (RunInstancesResponse, DescribeInstancesResponse,
 * TerminateInstancesResponse, {@code <Response><Errors>...}) and SSM's JSON, in a real activity
 * context. Requests are read back to check what the adapter sent.
 */
class Ec2RunnersTest {
  static final String WORKFLOW_ID = "runner/42/job-7";
  static final String PARAMETER = "/ephemera/runners/runner.42.job-7";
  static final String TOKEN = "glrt-t0ps3cret-runner-token";
  static final String AMI = "ami-0123456789abcdef0";
  static final String NS = "http://ec2.amazonaws.com/doc/2016-11-15/";
  static final ObjectMapper JSON = new ObjectMapper();
  static final RunnerProperties RUNNERS =
      new RunnerProperties(
          20,
          Duration.ofMinutes(10),
          Duration.ofHours(3),
          Duration.ofSeconds(30),
          Duration.ofMinutes(5),
          3600);

  final MockWebServer server = new MockWebServer();
  final InMemoryRunnerTokenStore tokens = new InMemoryRunnerTokenStore();
  final List<String> heartbeats = new CopyOnWriteArrayList<>();
  TestActivityEnvironment env;
  FakeTime time;
  Ec2Client ec2;
  SsmClient ssm;
  ComputeActivities activities;
  Ec2Runners runners;
  String tokenRef;

  @BeforeEach
  void setUp() throws Exception {
    server.start();
    tokenRef = tokens.put(WORKFLOW_ID, 99, TOKEN);
    useProperties(properties(Duration.ofMinutes(5)));
  }

  @AfterEach
  void tearDown() {
    env.close();
    ec2.close();
    ssm.close();
    server.close();
  }

  void useProperties(Ec2RunnerProperties props) {
    if (env != null) {
      env.close();
      ec2.close();
      ssm.close();
    }
    var credentials =
        StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDTEST", "test-secret"));
    ec2 = Ec2RunnerClients.ec2(props, credentials);
    ssm = Ec2RunnerClients.ssm(props, credentials);
    time = new FakeTime(Instant.parse("2030-01-01T00:00:00Z"));
    runners =
        new Ec2Runners(
            ec2, ssm, props, tokens, RUNNERS, URI.create("https://gitlab.example.com"), time, time);
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(new ComputeActivitiesImpl(null, runners));
    env.setActivityHeartbeatListener(String.class, heartbeats::add);
    activities = env.newActivityStub(ComputeActivities.class);
  }

  Ec2RunnerProperties properties(Duration waitBudget) {
    return new Ec2RunnerProperties(
        "us-east-1",
        server.url("/").uri(),
        "subnet-0abc1234def567890",
        List.of("sg-0abc1234def567890"),
        "ephemera-runner",
        null,
        null,
        "alias/ephemera-runners",
        null,
        null,
        null,
        waitBudget,
        Duration.ofSeconds(5),
        // One attempt per call: the SDK's own retries would hide what the adapter does.
        1);
  }

  // ---- provision ----

  @Test
  void provisionWritesTheTokenToSsmThenRunsOneSelfTerminatingInstance() throws Exception {
    server.enqueue(xml(200, describe()));
    server.enqueue(json(200, "{\"Version\":1,\"Tier\":\"Standard\"}"));
    server.enqueue(xml(200, runInstancesResponse("i-0a1b2c3d4e5f60718", "c7i.large")));

    ComputeRef ref = activities.provision(request(route("c7i.large", AMI)));

    assertThat(ref).isEqualTo(new ComputeRef(RunnerType.EC2, "i-0a1b2c3d4e5f60718"));

    Map<String, String> describe = form(server.takeRequest());
    assertThat(describe)
        .containsEntry("Action", "DescribeInstances")
        .containsEntry("Filter.1.Name", "tag:ephemera.io/workflow-id")
        .containsEntry("Filter.1.Value.1", WORKFLOW_ID)
        .containsEntry("Filter.2.Name", "instance-state-name")
        .containsEntry("Filter.2.Value.1", "pending")
        .containsEntry("Filter.2.Value.2", "running");

    RecordedRequest put = server.takeRequest();
    assertThat(put.getHeaders().get("X-Amz-Target")).isEqualTo("AmazonSSM.PutParameter");
    JsonNode putBody = JSON.readTree(put.getBody().utf8());
    assertThat(putBody.path("Name").asText()).isEqualTo(PARAMETER);
    assertThat(putBody.path("Type").asText()).isEqualTo("SecureString");
    assertThat(putBody.path("Overwrite").asBoolean()).isTrue();
    assertThat(putBody.path("KeyId").asText()).isEqualTo("alias/ephemera-runners");
    assertThat(putBody.path("Value").asText()).isEqualTo(TOKEN);

    RecordedRequest runRequest = server.takeRequest();
    assertThat(runRequest.getBody().utf8()).doesNotContain(TOKEN);
    Map<String, String> run = form(runRequest);
    assertThat(run)
        .containsEntry("Action", "RunInstances")
        .containsEntry("ImageId", AMI)
        .containsEntry("InstanceType", "c7i.large")
        .containsEntry("MinCount", "1")
        .containsEntry("MaxCount", "1")
        .containsEntry("InstanceInitiatedShutdownBehavior", "terminate")
        .containsEntry("SubnetId", "subnet-0abc1234def567890")
        .containsEntry("SecurityGroupId.1", "sg-0abc1234def567890")
        .containsEntry("IamInstanceProfile.Name", "ephemera-runner")
        .containsEntry("MetadataOptions.HttpTokens", "required")
        .doesNotContainKey("LaunchTemplate.LaunchTemplateName");
    assertThat(run.get("ClientToken")).matches("[0-9a-f]{64}");

    assertThat(run)
        .containsEntry("TagSpecification.1.ResourceType", "instance")
        .containsEntry("TagSpecification.2.ResourceType", "volume");
    for (int spec = 1; spec <= 2; spec++) {
      assertThat(tags(run, spec))
          .containsEntry("app.kubernetes.io/managed-by", "ephemera")
          .containsEntry("ephemera.io/workflow-id", WORKFLOW_ID)
          .containsEntry("ephemera.io/job-id", "7")
          .containsEntry("ephemera.io/project-id", "42")
          .containsEntry("Name", "ephemera-runner-42-job-7");
    }

    String userData =
        new String(Base64.getDecoder().decode(run.get("UserData")), StandardCharsets.UTF_8);
    assertThat(userData)
        .startsWith("#!/bin/bash\n")
        .contains("trap 'shutdown -h now' EXIT")
        .contains("shutdown -h +120 ")
        .contains(
            "CI_SERVER_TOKEN=\"$(aws ssm get-parameter --region us-east-1 --name "
                + PARAMETER
                + " --with-decryption --query Parameter.Value --output text)\"")
        .contains(
            "gitlab-runner run-single --url https://gitlab.example.com --executor shell"
                + " --max-builds 1 --wait-timeout 600")
        .doesNotContain(TOKEN)
        .doesNotContain("set -x");
  }

  @Test
  void aRouteNamingALaunchTemplateLetsTheTemplateChooseTheInstanceType() throws Exception {
    server.enqueue(xml(200, describe()));
    server.enqueue(json(200, "{\"Version\":1,\"Tier\":\"Standard\"}"));
    server.enqueue(xml(200, runInstancesResponse("i-0a1b2c3d4e5f60718", "m7i.xlarge")));

    activities.provision(request(route(null, "ephemera-runner-template")));

    server.takeRequest();
    server.takeRequest();
    Map<String, String> run = form(server.takeRequest());
    assertThat(run)
        .containsEntry("LaunchTemplate.LaunchTemplateName", "ephemera-runner-template")
        .doesNotContainKey("ImageId")
        .doesNotContainKey("InstanceType");
  }

  @Test
  void provisionAnswersTheInstanceAlreadyRunningForTheWorkflow() throws Exception {
    server.enqueue(xml(200, describe(instance("i-0feedfacecafe0001", "running"))));

    ComputeRef ref = activities.provision(request(route(null, AMI)));

    assertThat(ref).isEqualTo(new ComputeRef(RunnerType.EC2, "i-0feedfacecafe0001"));
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void aRetriedProvisionSendsTheSameClientTokenSoEc2StartsOneInstance() throws Exception {
    // Called directly, outside an activity: no run id, so every call is "the same run".
    enqueueProvision(2);

    runners.provision(request(route(null, AMI)));
    runners.provision(request(route(null, AMI)));

    List<String> tokens = clientTokens(6);
    assertThat(tokens).hasSize(2).doesNotContainNull();
    assertThat(tokens.get(0)).isEqualTo(tokens.get(1));
  }

  @Test
  void anotherRunOfTheSameWorkflowIdSendsAnotherClientToken() throws Exception {
    // The test environment gives every activity call its own workflow run id.
    enqueueProvision(2);

    activities.provision(request(route(null, AMI)));
    activities.provision(request(route(null, AMI)));

    List<String> tokens = clientTokens(6);
    assertThat(tokens).hasSize(2).doesNotContainNull();
    assertThat(tokens.get(0)).isNotEqualTo(tokens.get(1));
  }

  void enqueueProvision(int times) {
    for (int i = 0; i < times; i++) {
      server.enqueue(xml(200, describe()));
      server.enqueue(json(200, "{\"Version\":1,\"Tier\":\"Standard\"}"));
      server.enqueue(xml(200, runInstancesResponse("i-0a1b2c3d4e5f60718", "t3.medium")));
    }
  }

  List<String> clientTokens(int requests) throws InterruptedException {
    List<String> clientTokens = new ArrayList<>();
    for (int i = 0; i < requests; i++) {
      RecordedRequest r = server.takeRequest();
      if (r.getHeaders().get("X-Amz-Target") != null) {
        continue; // SSM
      }
      Map<String, String> p = form(r);
      if ("RunInstances".equals(p.get("Action"))) {
        assertThat(p).containsEntry("InstanceType", "t3.medium");
        clientTokens.add(p.get("ClientToken"));
      }
    }
    return clientTokens;
  }

  @Test
  void provisionWithoutAStoredTokenFailsForGoodAndStartsNothing() throws Exception {
    tokens.delete(WORKFLOW_ID);
    server.enqueue(xml(200, describe()));

    ApplicationFailure f = failure(() -> activities.provision(request(route(null, AMI))));

    assertThat(f.getType()).isEqualTo(FailureType.RunnerTokenMissing.name());
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void aRouteWithoutAmiOrLaunchTemplateIsRefusedBeforeAnyCall() {
    ApplicationFailure f = failure(() -> activities.provision(request(route(null, null))));

    assertThat(f.getType()).isEqualTo(FailureType.CloudInvalid.name());
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(server.getRequestCount()).isZero();
  }

  // ---- errors ----

  @Test
  void anUnauthorizedRunInstancesFailsForGoodNamingThePermission() {
    server.enqueue(xml(200, describe()));
    server.enqueue(json(200, "{\"Version\":1,\"Tier\":\"Standard\"}"));
    server.enqueue(
        xml(
            403,
            error(
                "UnauthorizedOperation",
                "You are not authorized to perform this operation. Encoded authorization failure"
                    + " message: abc123")));

    ApplicationFailure f = failure(() -> activities.provision(request(route(null, AMI))));

    assertThat(f.getType()).isEqualTo(FailureType.CloudForbidden.name());
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage())
        .contains("RunInstances")
        .contains("UnauthorizedOperation")
        .contains("ec2:RunInstances")
        .contains("iam:PassRole")
        .doesNotContain(TOKEN);
  }

  @Test
  void anSsmAccessDeniedFailsForGoodNamingThePermission() {
    server.enqueue(xml(200, describe()));
    server.enqueue(
        json(
            400,
            "{\"__type\":\"AccessDeniedException\",\"message\":\"User is not authorized to"
                + " perform: ssm:PutParameter\"}"));

    ApplicationFailure f = failure(() -> activities.provision(request(route(null, AMI))));

    assertThat(f.getType()).isEqualTo(FailureType.CloudForbidden.name());
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage()).contains("ssm:PutParameter").doesNotContain(TOKEN);
  }

  @Test
  void throttlingIsRetryable() {
    server.enqueue(xml(503, error("RequestLimitExceeded", "Request limit exceeded.")));

    ApplicationFailure f = failure(() -> activities.provision(request(route(null, AMI))));

    assertThat(f.getType()).isEqualTo(FailureType.CloudUnavailable.name());
    assertThat(f.isNonRetryable()).isFalse();
  }

  @Test
  void insufficientCapacityIsRetryable() {
    server.enqueue(xml(200, describe()));
    server.enqueue(json(200, "{\"Version\":1,\"Tier\":\"Standard\"}"));
    server.enqueue(
        xml(
            500,
            error(
                "InsufficientInstanceCapacity",
                "We currently do not have sufficient c7i.large capacity in the Availability Zone"
                    + " you requested.")));

    ApplicationFailure f = failure(() -> activities.provision(request(route("c7i.large", AMI))));

    assertThat(f.getType()).isEqualTo(FailureType.CloudUnavailable.name());
    assertThat(f.isNonRetryable()).isFalse();
  }

  @Test
  void anUnknownAmiFailsForGood() {
    server.enqueue(xml(200, describe()));
    server.enqueue(json(200, "{\"Version\":1,\"Tier\":\"Standard\"}"));
    server.enqueue(
        xml(400, error("InvalidAMIID.NotFound", "The image id '[" + AMI + "]' does not exist")));

    ApplicationFailure f = failure(() -> activities.provision(request(route(null, AMI))));

    assertThat(f.getType()).isEqualTo(FailureType.CloudInvalid.name());
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage()).contains("InvalidAMIID.NotFound");
  }

  // ---- terminate ----

  @Test
  void terminateEndsEveryLiveInstanceOfTheWorkflowAcrossPagesAndDeletesTheParameter()
      throws Exception {
    server.enqueue(xml(200, describePage("page-2", instance("i-0000000000000aaa1", "running"))));
    server.enqueue(
        xml(
            200,
            describe(
                instance("i-0000000000000aaa2", "terminated"),
                instance("i-0000000000000aaa3", "pending"))));
    server.enqueue(
        xml(
            200,
            terminateResponse("i-0000000000000aaa1", "running")
                .replace(
                    "</instancesSet>",
                    terminateItem("i-0000000000000aaa3", "pending") + "</instancesSet>")));
    server.enqueue(json(200, "{}"));

    activities.terminate(new TerminateRequest(WORKFLOW_ID, RunnerType.EC2));

    assertThat(form(server.takeRequest())).doesNotContainKey("NextToken");
    assertThat(form(server.takeRequest())).containsEntry("NextToken", "page-2");
    Map<String, String> terminate = form(server.takeRequest());
    assertThat(terminate)
        .containsEntry("Action", "TerminateInstances")
        .containsEntry("InstanceId.1", "i-0000000000000aaa1")
        .containsEntry("InstanceId.2", "i-0000000000000aaa3")
        .doesNotContainKey("InstanceId.3");
    RecordedRequest delete = server.takeRequest();
    assertThat(delete.getHeaders().get("X-Amz-Target")).isEqualTo("AmazonSSM.DeleteParameter");
    assertThat(JSON.readTree(delete.getBody().utf8()).path("Name").asText()).isEqualTo(PARAMETER);
  }

  @Test
  void terminatingAnInstanceEc2NoLongerKnowsSucceeds() throws Exception {
    server.enqueue(xml(200, describe(instance("i-0000000000000aaa1", "running"))));
    server.enqueue(
        xml(
            400,
            error(
                "InvalidInstanceID.NotFound",
                "The instance ID 'i-0000000000000aaa1' does not exist")));
    server.enqueue(json(400, "{\"__type\":\"ParameterNotFound\",\"message\":\"not found\"}"));

    activities.terminate(new TerminateRequest(WORKFLOW_ID, RunnerType.EC2));

    assertThat(server.getRequestCount()).isEqualTo(3);
  }

  @Test
  void oneUnknownInstanceDoesNotSpareTheOthers() throws Exception {
    server.enqueue(
        xml(
            200,
            describe(
                instance("i-0000000000000aaa1", "running"),
                instance("i-0000000000000aaa2", "running"))));
    server.enqueue(
        xml(
            400,
            error(
                "InvalidInstanceID.NotFound",
                "The instance ID 'i-0000000000000aaa1' does not exist")));
    server.enqueue(
        xml(
            400,
            error(
                "InvalidInstanceID.NotFound",
                "The instance ID 'i-0000000000000aaa1' does not exist")));
    server.enqueue(xml(200, terminateResponse("i-0000000000000aaa2", "running")));
    server.enqueue(json(200, "{}"));

    activities.terminate(new TerminateRequest(WORKFLOW_ID, RunnerType.EC2));

    server.takeRequest();
    server.takeRequest();
    assertThat(form(server.takeRequest())).containsEntry("InstanceId.1", "i-0000000000000aaa1");
    assertThat(form(server.takeRequest())).containsEntry("InstanceId.1", "i-0000000000000aaa2");
  }

  @Test
  void terminatingTwiceIsFine() {
    server.enqueue(xml(200, describe(instance("i-0000000000000aaa1", "running"))));
    server.enqueue(xml(200, terminateResponse("i-0000000000000aaa1", "running")));
    server.enqueue(json(200, "{}"));
    server.enqueue(xml(200, describe(instance("i-0000000000000aaa1", "shutting-down"))));
    server.enqueue(json(400, "{\"__type\":\"ParameterNotFound\",\"message\":\"not found\"}"));

    activities.terminate(new TerminateRequest(WORKFLOW_ID, RunnerType.EC2));
    activities.terminate(new TerminateRequest(WORKFLOW_ID, RunnerType.EC2));

    // The second found the instance already shutting down: no second TerminateInstances.
    assertThat(server.getRequestCount()).isEqualTo(5);
  }

  // ---- awaitTerminated ----

  @Test
  void awaitTerminatedPollsHeartbeatingUntilEveryInstanceIsTerminated() {
    server.enqueue(xml(200, describe(instance("i-0000000000000aaa1", "shutting-down"))));
    server.enqueue(xml(200, describe(instance("i-0000000000000aaa1", "shutting-down"))));
    server.enqueue(xml(200, describe(instance("i-0000000000000aaa1", "terminated"))));

    boolean gone = activities.awaitTerminated(new TerminateRequest(WORKFLOW_ID, RunnerType.EC2));

    assertThat(gone).isTrue();
    assertThat(time.sleeps()).isEqualTo(2);
    assertThat(time.elapsed()).isEqualTo(Duration.ofSeconds(10));
    assertThat(heartbeats).contains("i-0000000000000aaa1 shutting-down");
  }

  @Test
  void awaitTerminatedAnswersFalseWhenTheBudgetRunsOut() {
    useProperties(properties(Duration.ofSeconds(20)));
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            return xml(200, describe(instance("i-0000000000000aaa1", "shutting-down")));
          }
        });

    boolean gone = activities.awaitTerminated(new TerminateRequest(WORKFLOW_ID, RunnerType.EC2));

    assertThat(gone).isFalse();
    assertThat(time.elapsed()).isEqualTo(Duration.ofSeconds(20));
    assertThat(server.getRequestCount()).isEqualTo(5);
  }

  @Test
  void awaitTerminatedWithNoInstanceAnswersTrueAtOnce() {
    server.enqueue(xml(200, describe()));

    assertThat(activities.awaitTerminated(new TerminateRequest(WORKFLOW_ID, RunnerType.EC2)))
        .isTrue();
    assertThat(time.sleeps()).isZero();
  }

  // ---- documented response shapes ----

  static String describe(String... instances) {
    return describePage(null, instances);
  }

  static String describePage(String nextToken, String... instances) {
    StringBuilder b = new StringBuilder();
    b.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    b.append("<DescribeInstancesResponse xmlns=\"").append(NS).append("\">");
    b.append("<requestId>8f7724cf-496f-496e-8fe3-example</requestId><reservationSet>");
    for (String i : instances) {
      b.append("<item><reservationId>r-1234567890abcdef0</reservationId>");
      b.append("<ownerId>123456789012</ownerId><groupSet/>");
      b.append("<instancesSet>").append(i).append("</instancesSet></item>");
    }
    b.append("</reservationSet>");
    if (nextToken != null) {
      b.append("<nextToken>").append(nextToken).append("</nextToken>");
    }
    return b.append("</DescribeInstancesResponse>").toString();
  }

  static String instance(String id, String state) {
    return "<item><instanceId>"
        + id
        + "</instanceId><imageId>"
        + AMI
        + "</imageId><instanceState>"
        + state(state)
        + "</instanceState><instanceType>t3.medium</instanceType>"
        + "<launchTime>2030-01-01T00:00:00.000Z</launchTime><tagSet><item>"
        + "<key>ephemera.io/workflow-id</key><value>"
        + WORKFLOW_ID
        + "</value></item></tagSet></item>";
  }

  static String state(String name) {
    int code =
        switch (name) {
          case "pending" -> 0;
          case "running" -> 16;
          case "shutting-down" -> 32;
          case "terminated" -> 48;
          default -> throw new IllegalArgumentException(name);
        };
    return "<code>" + code + "</code><name>" + name + "</name>";
  }

  static String runInstancesResponse(String id, String type) {
    return "<RunInstancesResponse xmlns=\""
        + NS
        + "\"><requestId>59dbff89-35bd-4eac-99ed-be587example</requestId>"
        + "<reservationId>r-1234567890abcdef0</reservationId><ownerId>123456789012</ownerId>"
        + "<groupSet/><instancesSet><item><instanceId>"
        + id
        + "</instanceId><imageId>"
        + AMI
        + "</imageId><instanceState><code>0</code><name>pending</name></instanceState>"
        + "<instanceType>"
        + type
        + "</instanceType><launchTime>2030-01-01T00:00:00.000Z</launchTime>"
        + "</item></instancesSet></RunInstancesResponse>";
  }

  static String terminateResponse(String id, String previous) {
    return "<TerminateInstancesResponse xmlns=\""
        + NS
        + "\"><requestId>59dbff89-35bd-4eac-99ed-be587example</requestId><instancesSet>"
        + terminateItem(id, previous)
        + "</instancesSet></TerminateInstancesResponse>";
  }

  static String terminateItem(String id, String previous) {
    return "<item><instanceId>"
        + id
        + "</instanceId><currentState>"
        + state("shutting-down")
        + "</currentState><previousState>"
        + state(previous)
        + "</previousState></item>";
  }

  static String error(String code, String message) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>"
        + code
        + "</Code><Message>"
        + message
        + "</Message></Error></Errors><RequestID>ea966190-f9aa-478e-9ede-example</RequestID>"
        + "</Response>";
  }

  static MockResponse xml(int status, String body) {
    return new MockResponse.Builder()
        .code(status)
        .addHeader("Content-Type", "text/xml;charset=UTF-8")
        .body(body)
        .build();
  }

  static MockResponse json(int status, String body) {
    return new MockResponse.Builder()
        .code(status)
        .addHeader("Content-Type", "application/x-amz-json-1.1")
        .body(body)
        .build();
  }

  // ---- helpers ----

  ProvisionRequest request(RunnerRoute route) {
    return new ProvisionRequest(WORKFLOW_ID, 42, 7, route, 99, tokenRef, 600);
  }

  static RunnerRoute route(String instanceType, String ami) {
    return new RunnerRoute(
        "ec2", RunnerType.EC2, null, null, instanceType, null, ami, Duration.ofHours(2));
  }

  static Map<String, String> form(RecordedRequest request) {
    assertThat(request).as("a request was made").isNotNull();
    Map<String, String> p = new LinkedHashMap<>();
    for (String pair : request.getBody().utf8().split("&")) {
      int eq = pair.indexOf('=');
      p.put(
          URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
          URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return p;
  }

  static Map<String, String> tags(Map<String, String> form, int spec) {
    Map<String, String> tags = new LinkedHashMap<>();
    String prefix = "TagSpecification." + spec + ".Tag.";
    for (int m = 1; form.containsKey(prefix + m + ".Key"); m++) {
      tags.put(form.get(prefix + m + ".Key"), form.get(prefix + m + ".Value"));
    }
    return tags;
  }

  static ApplicationFailure failure(ThrowingCallable call) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).isInstanceOf(ActivityFailure.class);
    assertThat(thrown.getCause()).isInstanceOf(ApplicationFailure.class);
    return (ApplicationFailure) thrown.getCause();
  }
}
