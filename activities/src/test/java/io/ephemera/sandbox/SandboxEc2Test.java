package io.ephemera.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.ephemera.activity.compute.ComputeRef;
import io.ephemera.activity.compute.Ec2RunnerClients;
import io.ephemera.activity.compute.Ec2RunnerProperties;
import io.ephemera.activity.compute.Ec2Runners;
import io.ephemera.activity.compute.ProvisionRequest;
import io.ephemera.activity.config.RunnerProperties;
import io.ephemera.activity.gitlab.RunnerTokenStore;
import io.ephemera.runner.RunnerRoute;
import io.ephemera.runner.RunnerType;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;
import software.amazon.awssdk.services.ssm.SsmClient;

/**
 * The real EC2 adapter and the real AWS SDK against the sandbox over HTTP. The sandbox's clock is
 * the test's, so instance states change exactly when the test says; the adapter waits in real time
 * with short polls.
 */
class SandboxEc2Test {
  static final String WORKFLOW_ID = "runner/42/job-7";
  static final String PARAMETER = "/ephemera/runners/runner.42.job-7";
  static final String TOKEN = "glrt-sandbox-token";
  static final Duration STATE_DELAY = Duration.ofSeconds(30);

  final MutableClock clock = new MutableClock();
  SandboxEc2 sandbox;
  Ec2Client ec2;
  SsmClient ssm;
  Ec2Runners runners;
  final Map<String, RunnerTokenStore.StoredToken> stored = new ConcurrentHashMap<>();

  @BeforeEach
  void setUp() {
    sandbox = SandboxEc2.start(STATE_DELAY, clock);
    Ec2RunnerProperties props =
        new Ec2RunnerProperties(
            SandboxEc2.REGION,
            sandbox.endpoint(),
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            Duration.ofSeconds(10),
            Duration.ofMillis(50),
            1);
    ec2 = Ec2RunnerClients.ec2(props, SandboxEc2.credentials());
    ssm = Ec2RunnerClients.ssm(props, SandboxEc2.credentials());
    stored.put("ref", new RunnerTokenStore.StoredToken("ref", WORKFLOW_ID, 99, TOKEN));
    RunnerTokenStore tokens =
        new RunnerTokenStore() {
          @Override
          public String put(String workflowId, long runnerId, String token) {
            throw new UnsupportedOperationException();
          }

          @Override
          public Optional<StoredToken> get(String ref) {
            return Optional.ofNullable(stored.get(ref));
          }

          @Override
          public Optional<StoredToken> find(String workflowId) {
            return Optional.empty();
          }

          @Override
          public void delete(String workflowId) {}
        };
    runners =
        new Ec2Runners(
            ec2,
            ssm,
            props,
            tokens,
            new RunnerProperties(
                20,
                Duration.ofMinutes(10),
                Duration.ofHours(3),
                Duration.ofSeconds(30),
                Duration.ofMinutes(5),
                3600),
            URI.create("https://gitlab.example.com"));
  }

  @AfterEach
  void tearDown() {
    ec2.close();
    ssm.close();
    sandbox.close();
  }

  @Test
  void aProvisionedRunnerRunsUntilTerminatedAndThenLeavesNothingBehind() {
    ComputeRef ref = runners.provision(request());

    assertThat(ref.type()).isEqualTo(RunnerType.EC2);
    assertThat(ref.id()).matches("i-[0-9a-f]{17}");
    SandboxEc2.InstanceEntry entry = sandbox.inventory().instances().getFirst();
    assertThat(entry.id()).isEqualTo(ref.id());
    assertThat(entry.state()).isEqualTo("pending");
    assertThat(entry.type()).isEqualTo("t3.small");
    assertThat(entry.image()).isEqualTo("ami-0123456789abcdef0");
    assertThat(entry.tags())
        .containsEntry("ephemera.io/workflow-id", WORKFLOW_ID)
        .containsEntry("ephemera.io/job-id", "7")
        .containsEntry("app.kubernetes.io/managed-by", "ephemera");
    assertThat(sandbox.inventory().parameters()).containsExactly(PARAMETER);
    // What the instance would read at boot with its role.
    assertThat(ssm.getParameter(r -> r.name(PARAMETER).withDecryption(true)).parameter().value())
        .isEqualTo(TOKEN);

    clock.advance(STATE_DELAY);
    assertThat(stateOf(ref.id())).isEqualTo("running");
    assertThat(runners.provision(request())).isEqualTo(ref);
    assertThat(sandbox.inventory().instances()).hasSize(1);

    runners.terminate(WORKFLOW_ID);

    assertThat(stateOf(ref.id())).isEqualTo("shutting-down");
    assertThat(sandbox.inventory().parameters()).isEmpty();
    // The instance finishes shutting down while the adapter polls.
    CompletableFuture<Void> later =
        CompletableFuture.runAsync(
            () -> clock.advance(STATE_DELAY),
            CompletableFuture.delayedExecutor(200, TimeUnit.MILLISECONDS));
    assertThat(runners.awaitTerminated(WORKFLOW_ID)).isTrue();
    later.join();
    assertThat(sandbox.inventory().instances()).isEmpty();
    // EC2 still shows a terminated instance for a while; terminating again is harmless.
    assertThat(describe(WORKFLOW_ID))
        .singleElement()
        .satisfies(i -> assertThat(i.state().nameAsString()).isEqualTo("terminated"));
    runners.terminate(WORKFLOW_ID);
    assertThat(runners.awaitTerminated(WORKFLOW_ID)).isTrue();
    // Then it is forgotten.
    clock.advance(SandboxEc2.TERMINATED_VISIBLE.plusSeconds(1));
    assertThat(describe(WORKFLOW_ID)).isEmpty();
  }

  @Test
  void theInventoryNamesParametersButNeverHoldsTheirValues() {
    runners.provision(request());

    assertThat(sandbox.inventory().toString()).contains(PARAMETER).doesNotContain(TOKEN);
  }

  @Test
  void describeFiltersByTagAndPagesWithNextToken() {
    for (int i = 0; i < 7; i++) {
      run("runner/1/job-" + i % 2, null);
    }

    List<Instance> even = describe("runner/1/job-0");

    assertThat(even).hasSize(4);
    assertThat(describe("runner/1/job-1")).hasSize(3);
    assertThat(describe("runner/1/job-9")).isEmpty();
  }

  @Test
  void theSameClientTokenStartsOneInstance() {
    String first = run(WORKFLOW_ID, "token-1");
    String second = run(WORKFLOW_ID, "token-1");

    assertThat(second).isEqualTo(first);
    assertThat(sandbox.inventory().instances()).hasSize(1);
  }

  @Test
  void terminatingAnUnknownInstanceIsInvalidInstanceIdNotFound() {
    Ec2Exception e =
        catchThrowableOfType(
            Ec2Exception.class,
            () -> ec2.terminateInstances(r -> r.instanceIds("i-0000000000000dead")));

    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidInstanceID.NotFound");
    assertThat(e.statusCode()).isEqualTo(400);
  }

  // ---- helpers ----

  ProvisionRequest request() {
    return new ProvisionRequest(
        WORKFLOW_ID,
        42,
        7,
        new RunnerRoute(
            "ec2-small",
            RunnerType.EC2,
            null,
            null,
            "t3.small",
            null,
            "ami-0123456789abcdef0",
            Duration.ofHours(1)),
        99,
        "ref",
        600);
  }

  String run(String workflowId, String clientToken) {
    Tag tag = Tag.builder().key("ephemera.io/workflow-id").value(workflowId).build();
    return ec2.runInstances(
            RunInstancesRequest.builder()
                .imageId("ami-0123456789abcdef0")
                .instanceType("t3.micro")
                .minCount(1)
                .maxCount(1)
                .clientToken(clientToken)
                .tagSpecifications(
                    TagSpecification.builder()
                        .resourceType(ResourceType.INSTANCE)
                        .tags(tag)
                        .build())
                .build())
        .instances()
        .getFirst()
        .instanceId();
  }

  List<Instance> describe(String workflowId) {
    return ec2
        .describeInstancesPaginator(
            r ->
                r.maxResults(5)
                    .filters(
                        Filter.builder()
                            .name("tag:ephemera.io/workflow-id")
                            .values(workflowId)
                            .build()))
        .reservations()
        .stream()
        .flatMap(r -> r.instances().stream())
        .toList();
  }

  String stateOf(String id) {
    return sandbox.inventory().instances().stream()
        .filter(i -> i.id().equals(id))
        .map(SandboxEc2.InstanceEntry::state)
        .findFirst()
        .orElse("absent");
  }

  /** A clock that moves only when told to. */
  static final class MutableClock extends Clock {
    private volatile Instant now = Instant.parse("2030-01-01T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }
}
