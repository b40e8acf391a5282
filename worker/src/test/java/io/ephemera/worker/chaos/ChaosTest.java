package io.ephemera.worker.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.ephemera.sandbox.SandboxCluster;
import io.ephemera.sandbox.SandboxEc2;
import io.ephemera.sandbox.SandboxGitLab;
import io.ephemera.sandbox.SandboxRegistry;
import io.ephemera.sandbox.SandboxVault;
import io.temporal.client.WorkflowClient;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.context.Lifecycle;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The chaos suite: 300 mixed lifecycles (review apps opened, pushed to, closed, merged or left
 * open; runners whose jobs succeed, fail or are cancelled) delivered over HTTP to the whole
 * application, while every sandbox fails one call in five and the Temporal worker is restarted
 * three times; then, faults off, everything must settle to exactly what the inputs imply. See
 * {@link ChaosDriver} for what is checked, and worker/README.md for rerunning a seed.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    // What EphemeraEnvironmentPostProcessor and the logging system read must be here: they see
    // the environment before the dynamic properties below are added.
    properties = {
      "ephemera.temporal.embedded-port=0",
      "ephemera.api.tokens=" + ChaosTest.API_TOKEN,
      "logging.level.io.vertx.core.net.impl.ConnectionBase=OFF"
    })
@ActiveProfiles("local")
// QUARANTINED from `.ci/run` (issue 8 stays open): on main after the Vault, build, reconciler and
// deploy-token merges, seed 29862631920915 left a merged review app's workflow running and build
// credential leases (aws/creds/ephemera-build-cache) active with no live app, 145 findings in all.
// The suite is doing its job; the leak is not fixed yet. Run it with -Dephemera.chaos.enabled=true.
@EnabledIfSystemProperty(named = "ephemera.chaos.enabled", matches = "true")
class ChaosTest {
  static final String API_TOKEN = "chaos-api-token";

  /** Lifecycles in flight at once: most of a lifecycle is waiting, so many fit on two cores. */
  static final int CONCURRENCY = 48;

  @DynamicPropertySource
  static void chaosSettings(DynamicPropertyRegistry registry) {
    ChaosDriver.applicationProperties().forEach((k, v) -> registry.add(k, () -> v));
  }

  @LocalServerPort int port;
  @Autowired ApplicationContext context;
  @Autowired WorkflowClient temporal;
  @Autowired SandboxCluster cluster;
  @Autowired SandboxGitLab gitlab;
  @Autowired SandboxEc2 ec2;
  @Autowired SandboxVault vault;
  @Autowired SandboxRegistry registry;

  @Value("${ephemera.gitlab.webhook-token}")
  String webhookToken;

  @Test
  void threeHundredLifecyclesUnderFaultsAndRestartsSettleToExactlyTheLiveEnvironments()
      throws Exception {
    long seed = ChaosDriver.seed();
    System.out.println("ChaosTest seed: " + seed);
    Lifecycle worker = context.getBean("ephemeraWorker", Lifecycle.class);
    ChaosDriver driver =
        new ChaosDriver(
            new ChaosDriver.Target(
                port,
                webhookToken.split(",")[0].trim(),
                temporal,
                cluster,
                gitlab,
                ec2,
                vault,
                registry,
                () -> {
                  worker.stop();
                  worker.start();
                }),
            new ChaosDriver.Settings(
                seed,
                Integer.getInteger("ephemera.chaos.lifecycles", 300),
                0.2,
                3,
                CONCURRENCY,
                Duration.ofSeconds(120)));

    ChaosDriver.Result result = driver.run();

    System.out.println(result.summary());
    assertThat(result.restarts()).isEqualTo(3);
    assertThat(result.faults().values())
        .as("every sandbox injected faults")
        .allSatisfy(
            kinds -> assertThat(kinds.values()).allSatisfy(n -> assertThat(n).isPositive()));
    assertThat(result.violations()).as("seed %d", seed).isEmpty();
  }
}
