package io.ephemera.worker.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.ephemera.activity.credentials.CredentialPurpose;
import io.ephemera.activity.vault.VaultCredentialActivities;
import io.ephemera.activity.vault.VaultLeaseIndex;
import io.ephemera.activity.vault.VaultProperties;
import io.ephemera.activity.vault.VaultProperties.Auth;
import io.ephemera.activity.vault.VaultProperties.SourceSpec;
import io.ephemera.activity.vault.VaultSession;
import io.ephemera.sandbox.SandboxVault;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.env.MapPropertySource;

/**
 * The worker's Vault adapters (session, lease index, credential activities) configured exactly as
 * the rendered chart configures them, {@code ephemera.vault.*} bound by Spring's own binder from
 * the ConfigMap, but pointed at the sandbox Vault: its request log is what a real Vault would be
 * asked. The sandbox holds a value at every configured source path, and accepts the chart's
 * Kubernetes login role with a service-account token file written here.
 */
final class VaultExercise implements AutoCloseable {

  /**
   * The chart's commented example of a dynamic source, switched on: the build cache's short-lived
   * AWS credentials ({@code deploy/helm/ephemera/values.yaml}, {@code vault.sources.build}).
   */
  static final Map<String, Object> EXAMPLE_SOURCES =
      Map.of(
          "vault.sources.build.build-cache.path", "aws/creds/ephemera-build-cache",
          "vault.sources.build.build-cache.ttl", "15m");

  static final long PROJECT_ID = 4242;
  static final String PROJECT_PATH = "group/app";

  final RenderedChart chart;
  final VaultProperties properties;
  final SandboxVault sandbox;
  final SteppingClock clock = new SteppingClock(Instant.parse("2026-01-01T00:00:00Z"));
  final VaultSession session;
  final VaultLeaseIndex index;
  private final Path tokenFile;

  private VaultExercise(RenderedChart chart) {
    this.chart = chart;
    VaultProperties configured = bind(chart);
    assertThat(configured.configured()).as("the chart configures a Vault").isTrue();
    sandbox = SandboxVault.start(clock);
    try {
      tokenFile = Files.createTempFile("ephemera-sa-token", "");
      Files.writeString(tokenFile, "eyJhbGciOiJSUzI1NiJ9.service-account-token.signature");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    VaultProperties.Kubernetes k8s = configured.auth().kubernetes();
    assertThat(configured.auth().method())
        .as("the chart's default login")
        .isEqualTo(VaultProperties.AuthMethod.KUBERNETES);
    sandbox.kubernetesRole(k8s.mount(), k8s.role());
    properties =
        configured.withEndpoint(
            sandbox.url(),
            new Auth(
                VaultProperties.AuthMethod.KUBERNETES,
                new VaultProperties.Kubernetes(k8s.role(), k8s.mount(), tokenFile.toString()),
                null,
                null));
    seed();
    session = new VaultSession(properties, clock);
    index = new VaultLeaseIndex(session, properties.leaseIndex());
  }

  /** The adapters on {@code chart}'s configuration. */
  static VaultExercise of(RenderedChart chart) {
    return new VaultExercise(chart);
  }

  /** {@code ephemera.vault.*} of the rendered ConfigMap, bound as the application binds it. */
  static VaultProperties bind(RenderedChart chart) {
    Binder binder =
        new Binder(
            ConfigurationPropertySources.from(
                new MapPropertySource("application.yaml", chart.applicationProperties())));
    return binder.bind("ephemera.vault", VaultProperties.class).get();
  }

  VaultCredentialActivities credentials(KubernetesClient client) {
    return new VaultCredentialActivities(
        session, index, client, (String) chart.property("ephemera.review.registry"));
  }

  /** Every configured source of both purposes for the exercised project. */
  List<SourceSpec> sources() {
    List<SourceSpec> all = new ArrayList<>();
    for (CredentialPurpose purpose : CredentialPurpose.values()) {
      all.addAll(properties.sources(purpose, PROJECT_ID, PROJECT_PATH));
    }
    return all;
  }

  /** The requests Vault received so far, as {@code "GET /v1/secret/data/x"}. */
  List<String> requests() {
    List<String> all = sandbox.requests();
    // The sandbox keeps its last 200 lines; an exercise that outgrows them must be split.
    assertThat(all).as("the sandbox's request log still holds everything").hasSizeLessThan(200);
    return all;
  }

  private void seed() {
    for (SourceSpec s : sources()) {
      switch (s.engine()) {
        case KV2, KV1 -> {
          if (s.engine() == VaultProperties.Engine.KV1) {
            sandbox.kvMount(s.path().substring(0, s.path().indexOf('/')), 1);
          } else {
            sandbox.kvMount(s.mount(), 2);
          }
          sandbox.putSecret(
              s.path(),
              Map.of(
                  "username", "user-" + SandboxVault.MARKER,
                  "password", SandboxVault.MARKER + "-password"));
        }
        case DYNAMIC -> {
          String[] parts = s.path().split("/");
          assertThat(parts).as("a dynamic source <mount>/creds/<role>: " + s.path()).hasSize(3);
          if (parts[0].equals("aws")) {
            sandbox.awsRole(parts[0], parts[2], Duration.ofHours(1));
          } else {
            sandbox.dynamicRole(parts[0], parts[2], Duration.ofHours(1));
          }
        }
      }
    }
  }

  @Override
  public void close() {
    session.close();
    sandbox.close();
    try {
      Files.deleteIfExists(tokenFile);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A clock the test moves forward, so token renewal happens when it says. */
  static final class SteppingClock extends Clock {
    private volatile Instant now;

    SteppingClock(Instant start) {
      now = start;
    }

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
