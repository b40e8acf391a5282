package io.ephemera.activity.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.ephemera.activity.credentials.CredentialPurpose;
import io.ephemera.activity.credentials.CredentialRequest;
import io.ephemera.activity.credentials.IssuedCredentials;
import io.ephemera.activity.credentials.Lease;
import io.ephemera.activity.credentials.LeaseIndex;
import io.ephemera.activity.credentials.RevokeRequest;
import io.ephemera.activity.credentials.SecretKeys;
import io.ephemera.activity.kubernetes.DeployToken;
import io.ephemera.activity.vault.VaultProperties.Auth;
import io.ephemera.activity.vault.VaultProperties.DeploySources;
import io.ephemera.activity.vault.VaultProperties.Source;
import io.ephemera.common.FailureType;
import io.ephemera.common.Labels;
import io.ephemera.sandbox.SandboxVault;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.temporal.failure.ApplicationFailure;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The deploy's Kubernetes token from Vault's Kubernetes secrets engine: the real session talking
 * HTTP to the sandbox Vault (answering with the engine's documented response), writing into
 * Fabric8's mock API server. The token carries {@link SandboxVault#MARKER}; no result, failure or
 * log line may.
 */
@EnableKubernetesMockClient(crud = true, https = false)
class VaultKubernetesTokenTest {
  static final String WORKFLOW_ID = "review-app/42/mr-7";
  static final String NS = "review-42-mr-7-group-app";
  static final String ROLE_PATH = "kubernetes/creds/review-deployer";

  KubernetesClient client;
  final MutableClock clock = new MutableClock(Instant.parse("2025-01-01T00:00:00Z"));
  SandboxVault sandbox;
  VaultSession session;
  VaultLeaseIndex index;
  VaultCredentialActivities activities;
  ListAppender<ILoggingEvent> logs;

  @BeforeEach
  void setUp() {
    sandbox =
        SandboxVault.start(clock)
            .kubernetesSecretsRole("kubernetes", "review-deployer", Duration.ofHours(1))
            .dynamicRole("registry", "pull", Duration.ofDays(30));
    VaultProperties props =
        new VaultProperties(
                sandbox.url(),
                null,
                Auth.approle(SandboxVault.APPROLE_ROLE_ID, sandbox.approleSecretId()),
                null,
                Duration.ofSeconds(2),
                null,
                null,
                null,
                null)
            .withSources(
                null,
                new DeploySources(
                    new Source("registry/creds/pull", VaultProperties.Engine.DYNAMIC, null, null),
                    new Source(ROLE_PATH, null, null, Duration.ofMinutes(20))));
    session = new VaultSession(props, clock);
    index = new VaultLeaseIndex(session, props.leaseIndex());
    activities =
        new VaultCredentialActivities(session, index, client, "registry.example.test", clock);
    // The review namespace exists by the time pull credentials are issued.
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
        .create();

    logs = new ListAppender<>();
    logs.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
    logs.start();
    root().addAppender(logs);
  }

  @AfterEach
  void tearDown() {
    root().detachAppender(logs);
    session.close();
    sandbox.close();
  }

  static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  static CredentialRequest deploy() {
    return new CredentialRequest(
        WORKFLOW_ID, 42, "group/app", CredentialPurpose.DEPLOY, NS, "registry-pull");
  }

  @Test
  void deployCredentialsIssueATokenForTheReviewNamespaceIntoItsOwnSecret() {
    IssuedCredentials issued = activities.issue(deploy());

    assertThat(issued.leases())
        .extracting(Lease::kind, Lease::path)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("registry-pull", "registry/creds/pull"),
            org.assertj.core.groups.Tuple.tuple("kubernetes", ROLE_PATH));
    Lease token = issued.leases().get(1);
    assertThat(token.leaseId()).startsWith(ROLE_PATH + "/");
    // The configured 20 minutes, not the role's hour: the shortest TTL that covers a deploy.
    assertThat(token.expiresAt()).isEqualTo(clock.instant().plus(Duration.ofMinutes(20)));
    assertThat(sandbox.requests()).contains("POST /v1/" + ROLE_PATH);

    Secret secret = client.secrets().inNamespace(NS).withName(DeployToken.SECRET_NAME).get();
    assertThat(secret.getType()).isEqualTo("Opaque");
    assertThat(secret.getMetadata().getLabels())
        .containsEntry(Labels.MANAGED_BY, "ephemera")
        .containsEntry(Labels.WORKFLOW_ID, "review-app.42.mr-7")
        .containsEntry(VaultCredentialActivities.PURPOSE_LABEL, "deploy");
    assertThat(secret.getMetadata().getAnnotations())
        .containsEntry(Labels.WORKFLOW_ID_ANNOTATION, WORKFLOW_ID)
        .containsEntry(DeployToken.VAULT_PATH_ANNOTATION, ROLE_PATH)
        .containsEntry(DeployToken.EXPIRES_AT_ANNOTATION, token.expiresAt().toString());
    // The engine answered for the namespace it was asked for.
    assertThat(secret.getMetadata().getAnnotations().get(DeployToken.SERVICE_ACCOUNT_ANNOTATION))
        .startsWith(NS + "/v-token-review-deployer-");
    assertThat(secret.getData()).containsOnlyKeys(DeployToken.TOKEN_KEY);
    String value = decode(secret.getData().get(DeployToken.TOKEN_KEY));
    assertThat(value).startsWith("eyJ").contains(SandboxVault.MARKER);

    // The pull Secret holds the pull credential and nothing of the token.
    Secret pull = client.secrets().inNamespace(NS).withName("registry-pull").get();
    assertThat(pull.getData()).containsOnlyKeys(SecretKeys.DOCKER_CONFIG);
    assertThat(decode(pull.getData().get(SecretKeys.DOCKER_CONFIG))).doesNotContain(value);

    assertThat(index.page(null, 10).entries())
        .extracting(LeaseIndex.Entry::leaseId, LeaseIndex.Entry::kind)
        .contains(org.assertj.core.groups.Tuple.tuple(token.leaseId(), "kubernetes"));
    assertThat(issued.toString()).doesNotContain(SandboxVault.MARKER);
    assertNoMarkerInLogs();
  }

  @Test
  void revokingTheDeployLeasesRevokesTheToken() {
    IssuedCredentials issued = activities.issue(deploy());

    activities.revoke(new RevokeRequest(WORKFLOW_ID, issued.leases()));
    // Idempotent: a second revoke of the same leases is success.
    activities.revoke(new RevokeRequest(WORKFLOW_ID, issued.leases()));

    assertThat(sandbox.leases())
        .filteredOn(l -> l.path().equals(ROLE_PATH))
        .singleElement()
        .extracting(SandboxVault.LeaseEntry::state)
        .isEqualTo(SandboxVault.STATE_REVOKED);
    assertThat(index.page(null, 10).entries()).isEmpty();
  }

  @Test
  void aNewDeployReplacesTheTokenInTheSameSecret() {
    activities.issue(deploy());
    Secret first = client.secrets().inNamespace(NS).withName(DeployToken.SECRET_NAME).get();

    activities.issue(deploy());
    Secret second = client.secrets().inNamespace(NS).withName(DeployToken.SECRET_NAME).get();

    assertThat(second.getMetadata().getResourceVersion())
        .isNotEqualTo(first.getMetadata().getResourceVersion());
    assertThat(decode(second.getData().get(DeployToken.TOKEN_KEY)))
        .isNotEqualTo(decode(first.getData().get(DeployToken.TOKEN_KEY)));
  }

  @Test
  void aDeniedRoleIsNonRetryableNamesThePathAndRevokesThePullLease() {
    sandbox.deny(ROLE_PATH);

    ApplicationFailure f = failure(() -> activities.issue(deploy()));

    assertThat(f.getType()).isEqualTo(FailureType.VaultForbidden.name());
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage()).contains(ROLE_PATH);
    assertThat(client.secrets().inNamespace(NS).withName(DeployToken.SECRET_NAME).get()).isNull();
    assertThat(sandbox.leases())
        .extracting(SandboxVault.LeaseEntry::state)
        .containsOnly(SandboxVault.STATE_REVOKED);
    assertNoMarkerInLogs();
  }

  @Test
  void aMissingRoleIsNonRetryableAndNamesThePath() {
    sandbox.unknownRole(ROLE_PATH);

    ApplicationFailure f = failure(() -> activities.issue(deploy()));

    assertThat(f.getType()).isEqualTo(FailureType.VaultRoleMissing.name());
    assertThat(f.getOriginalMessage()).contains(ROLE_PATH);
    assertThat(client.secrets().inNamespace(NS).withName(DeployToken.SECRET_NAME).get()).isNull();
  }

  @Test
  void aTokenSecretOfAnotherWorkflowIsNeverOverwrittenAndNothingIsIssued() {
    client
        .secrets()
        .inNamespace(NS)
        .resource(
            new io.fabric8.kubernetes.api.model.SecretBuilder()
                .withNewMetadata()
                .withName(DeployToken.SECRET_NAME)
                .endMetadata()
                .withStringData(Map.of(DeployToken.TOKEN_KEY, "someone-elses"))
                .build())
        .create();

    ApplicationFailure f = failure(() -> activities.issue(deploy()));

    assertThat(f.getType()).isEqualTo(FailureType.InvalidName.name());
    assertThat(f.getOriginalMessage()).contains(DeployToken.SECRET_NAME);
    assertThat(sandbox.requests()).noneMatch(r -> r.contains(ROLE_PATH));
  }

  private static ApplicationFailure failure(Runnable call) {
    Throwable t = catchThrowable(call::run);
    assertThat(t).isInstanceOf(ApplicationFailure.class);
    assertThat(t.getMessage()).doesNotContain(SandboxVault.MARKER);
    return (ApplicationFailure) t;
  }

  private void assertNoMarkerInLogs() {
    assertThat(logs.list).isNotEmpty();
    List<String> lines =
        logs.list.stream()
            .map(
                e ->
                    e.getFormattedMessage()
                        + (e.getThrowableProxy() == null
                            ? ""
                            : " " + e.getThrowableProxy().getMessage()))
            .toList();
    assertThat(lines).allSatisfy(l -> assertThat(l).doesNotContain(SandboxVault.MARKER));
  }

  private static String decode(String base64) {
    return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
  }
}
