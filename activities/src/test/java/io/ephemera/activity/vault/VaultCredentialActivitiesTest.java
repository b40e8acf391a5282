package io.ephemera.activity.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

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
import io.ephemera.activity.vault.VaultProperties.Auth;
import io.ephemera.activity.vault.VaultProperties.BuildSources;
import io.ephemera.activity.vault.VaultProperties.DeploySources;
import io.ephemera.activity.vault.VaultProperties.Engine;
import io.ephemera.activity.vault.VaultProperties.Source;
import io.ephemera.common.Labels;
import io.ephemera.sandbox.SandboxVault;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.temporal.failure.ApplicationFailure;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The credential activities end to end: the real session on vault-java-driver talking HTTP to the
 * sandbox Vault, writing Secrets into Fabric8's mock API server in CRUD mode. Every value the
 * sandbox issues carries {@link SandboxVault#MARKER}; no result, message or log line may.
 */
@EnableKubernetesMockClient(crud = true, https = false)
class VaultCredentialActivitiesTest {
  static final String WORKFLOW_ID = "review-app/42/mr-7";
  static final String NS = "review-42-mr-7-group-app";
  static final String REGISTRY = "registry.example.test:5000";
  static final JsonMapper JSON = JsonMapper.builder().build();

  KubernetesClient client;
  final MutableClock clock = new MutableClock(Instant.parse("2025-01-01T00:00:00Z"));
  SandboxVault sandbox;
  VaultSession session;
  VaultLeaseIndex index;
  VaultCredentialActivities activities;
  ListAppender<ILoggingEvent> logs;

  @BeforeEach
  void setUp() {
    sandbox = SandboxVault.start(clock);
    sandbox
        .putSecret(
            "secret/ci/registry",
            Map.of(
                "username", "push-" + SandboxVault.MARKER,
                "password", SandboxVault.MARKER + "-push-password"))
        .putSecret(
            "kv/ci/pull",
            Map.of(
                "username", "pull-" + SandboxVault.MARKER,
                "password", SandboxVault.MARKER + "-pull-password"))
        .awsRole("aws", "review-cache", Duration.ofMinutes(30))
        .dynamicRole("gitlab", "*", Duration.ofMinutes(20));
    VaultProperties props =
        new VaultProperties(
            sandbox.url(),
            null,
            new Auth(
                VaultProperties.AuthMethod.APPROLE,
                null,
                new VaultProperties.AppRole(
                    SandboxVault.APPROLE_ROLE_ID,
                    sandbox.approleSecretId(),
                    null,
                    null,
                    "ephemera"),
                null),
            null,
            Duration.ofSeconds(2),
            new BuildSources(
                new Source("secret/ci/registry", null, null, null),
                new Source("aws/creds/review-cache", null, null, Duration.ofMinutes(15)),
                new Source("gitlab/creds/{projectId}", Engine.DYNAMIC, null, null)),
            new DeploySources(new Source("kv/ci/pull", Engine.KV1, null, null), null),
            null,
            null);
    session = new VaultSession(props, clock);
    index = new VaultLeaseIndex(session, props.leaseIndex());
    activities = new VaultCredentialActivities(session, index, client, REGISTRY, clock);

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

  static ch.qos.logback.classic.Logger root() {
    return (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("io.ephemera");
  }

  static CredentialRequest request(CredentialPurpose purpose, String name) {
    return new CredentialRequest(WORKFLOW_ID, 42, "group/app", purpose, NS, name);
  }

  @Test
  void buildCredentialsGoIntoAnOpaqueSecretAndOnlyLeasesComeBack() {
    IssuedCredentials issued = activities.issue(request(CredentialPurpose.BUILD, "build-creds"));

    assertThat(issued.secretNamespace()).isEqualTo(NS);
    assertThat(issued.secretName()).isEqualTo("build-creds");
    assertThat(issued.leases())
        .extracting(Lease::kind, Lease::path)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("registry-push", "secret/ci/registry"),
            org.assertj.core.groups.Tuple.tuple("build-cache", "aws/creds/review-cache"),
            org.assertj.core.groups.Tuple.tuple("source-read", "gitlab/creds/42"));
    Lease kvLease = issued.leases().get(0);
    assertThat(kvLease.revocable()).isFalse();
    Lease aws = issued.leases().get(1);
    assertThat(aws.leaseId()).startsWith("aws/creds/review-cache/");
    // The shortest TTL that works: the configured 15 minutes, not the role's 30.
    assertThat(aws.expiresAt()).isEqualTo(clock.instant().plus(Duration.ofMinutes(15)));

    Secret secret = client.secrets().inNamespace(NS).withName("build-creds").get();
    assertThat(secret.getType()).isEqualTo("Opaque");
    assertThat(secret.getMetadata().getLabels())
        .containsEntry(Labels.MANAGED_BY, "ephemera")
        .containsEntry(Labels.WORKFLOW_ID, "review-app.42.mr-7")
        .containsEntry(Labels.KIND, Labels.KIND_REVIEW_APP)
        .containsEntry(VaultCredentialActivities.PURPOSE_LABEL, "build");
    assertThat(secret.getMetadata().getAnnotations())
        .containsEntry(Labels.WORKFLOW_ID_ANNOTATION, WORKFLOW_ID);
    Map<String, String> data = decoded(secret);
    assertThat(data)
        .containsOnlyKeys(
            SecretKeys.DOCKER_CONFIG,
            SecretKeys.AWS_ACCESS_KEY_ID,
            SecretKeys.AWS_SECRET_ACCESS_KEY,
            SecretKeys.AWS_SESSION_TOKEN,
            SecretKeys.GIT_USERNAME,
            SecretKeys.GIT_PASSWORD);
    data.values().forEach(v -> assertThat(v).contains(SandboxVault.MARKER));
    JsonNode auth = JSON.readTree(data.get(SecretKeys.DOCKER_CONFIG)).get("auths").get(REGISTRY);
    assertThat(auth.get("username").asString()).isEqualTo("push-" + SandboxVault.MARKER);
    assertThat(auth.get("password").asString()).isEqualTo(SandboxVault.MARKER + "-push-password");
    assertThat(
            new String(
                Base64.getDecoder().decode(auth.get("auth").asString()), StandardCharsets.UTF_8))
        .isEqualTo("push-" + SandboxVault.MARKER + ":" + SandboxVault.MARKER + "-push-password");

    assertThat(issued.toString()).doesNotContain(SandboxVault.MARKER);
    assertThat(sandbox.leases())
        .extracting(SandboxVault.LeaseEntry::state)
        .containsOnly(SandboxVault.STATE_ACTIVE)
        .hasSize(2);
    assertNoMarkerInLogs();
  }

  @Test
  void everyLeaseIsInTheIndexBeforeUseAndOwnedByTheWorkflow() {
    IssuedCredentials issued = activities.issue(request(CredentialPurpose.BUILD, "build-creds"));

    LeaseIndex.Page page = index.page(null, 10);
    assertThat(page.entries())
        .extracting(LeaseIndex.Entry::leaseId)
        .containsExactlyInAnyOrderElementsOf(
            issued.leases().stream().filter(Lease::revocable).map(Lease::leaseId).toList());
    assertThat(page.entries())
        .allSatisfy(
            e -> {
              assertThat(e.workflowId()).isEqualTo(WORKFLOW_ID);
              assertThat(e.issuedAt()).isEqualTo(clock.instant());
              assertThat(e.expiresAt()).isAfter(clock.instant());
              assertThat(e.toString()).doesNotContain(SandboxVault.MARKER);
            });
    // Recorded before the Secret was written: the index write comes first in Vault's request log.
    List<String> requests = sandbox.requests();
    int awsRead = indexOf(requests, "/v1/aws/creds/review-cache");
    int indexWrite = indexOf(requests, "/v1/secret/data/ephemera/leases/");
    assertThat(awsRead).isGreaterThanOrEqualTo(0);
    assertThat(indexWrite).isGreaterThan(awsRead);
  }

  @Test
  void dynamicSecretsAreReadAtTheEnginesOwnPath() {
    activities.issue(request(CredentialPurpose.BUILD, "build-creds"));

    assertThat(sandbox.requests())
        .contains("POST /v1/aws/creds/review-cache", "GET /v1/gitlab/creds/42")
        .noneMatch(r -> r.contains("/aws/data/"));
  }

  @Test
  void deployCredentialsAreADockerConfigJsonSecretUsableAsImagePullSecret() {
    IssuedCredentials issued = activities.issue(request(CredentialPurpose.DEPLOY, "registry-pull"));

    assertThat(issued.leases()).singleElement().satisfies(l -> assertThat(l.revocable()).isFalse());
    Secret secret = client.secrets().inNamespace(NS).withName("registry-pull").get();
    assertThat(secret.getType()).isEqualTo("kubernetes.io/dockerconfigjson");
    assertThat(secret.getMetadata().getLabels())
        .containsEntry(VaultCredentialActivities.PURPOSE_LABEL, "deploy");
    Map<String, String> data = decoded(secret);
    assertThat(data).containsOnlyKeys(SecretKeys.DOCKER_CONFIG);
    assertThat(JSON.readTree(data.get(SecretKeys.DOCKER_CONFIG)).get("auths").has(REGISTRY))
        .isTrue();
    assertThat(client.namespaces().withName(NS).get().getMetadata().getLabels())
        .containsEntry(Labels.MANAGED_BY, "ephemera");
  }

  @Test
  void issuingAgainReplacesTheSecretsContents() {
    activities.issue(request(CredentialPurpose.BUILD, "build-creds"));
    String first =
        decoded(client.secrets().inNamespace(NS).withName("build-creds").get())
            .get(SecretKeys.AWS_SECRET_ACCESS_KEY);

    activities.issue(request(CredentialPurpose.BUILD, "build-creds"));

    String second =
        decoded(client.secrets().inNamespace(NS).withName("build-creds").get())
            .get(SecretKeys.AWS_SECRET_ACCESS_KEY);
    assertThat(second).isNotEqualTo(first);
  }

  @Test
  void revokeRevokesEachLeaseAndEmptiesTheIndex() {
    IssuedCredentials issued = activities.issue(request(CredentialPurpose.BUILD, "build-creds"));

    activities.revoke(new RevokeRequest(WORKFLOW_ID, issued.leases()));

    assertThat(sandbox.leases())
        .hasSize(2)
        .extracting(SandboxVault.LeaseEntry::state)
        .containsOnly(SandboxVault.STATE_REVOKED);
    assertThat(index.page(null, 10).entries()).isEmpty();
    assertThat(sandbox.requests()).contains("PUT /v1/sys/leases/revoke");

    // Again, and an unknown lease: both are success.
    activities.revoke(new RevokeRequest(WORKFLOW_ID, issued.leases()));
    activities.revoke(
        new RevokeRequest(
            WORKFLOW_ID,
            List.of(
                new Lease("aws/creds/review-cache/unknown", "build-cache", "aws/creds/x", null))));
    assertNoMarkerInLogs();
  }

  @Test
  void expiredLeasesRevokeAsSuccess() {
    IssuedCredentials issued = activities.issue(request(CredentialPurpose.BUILD, "build-creds"));
    clock.advance(Duration.ofHours(2));
    assertThat(sandbox.leases())
        .extracting(SandboxVault.LeaseEntry::state)
        .containsOnly(SandboxVault.STATE_EXPIRED);

    activities.revoke(new RevokeRequest(WORKFLOW_ID, issued.leases()));

    assertThat(index.page(null, 10).entries()).isEmpty();
  }

  @Test
  void permissionDeniedIsNonRetryableNamesPathAndRoleAndRevokesWhatWasIssued() {
    sandbox.deny("gitlab/creds/");

    ApplicationFailure f = failure(() -> activities.issue(request(CredentialPurpose.BUILD, "b")));

    assertThat(f.getType()).isEqualTo("VaultForbidden");
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage())
        .contains("gitlab/creds/42")
        .contains("AppRole 'ephemera'")
        .doesNotContain(SandboxVault.MARKER);
    // The AWS lease issued before the refusal is revoked and out of the index, no Secret written.
    assertThat(sandbox.leases())
        .singleElement()
        .satisfies(l -> assertThat(l.state()).isEqualTo(SandboxVault.STATE_REVOKED));
    assertThat(index.page(null, 10).entries()).isEmpty();
    assertThat(client.secrets().inNamespace(NS).withName("b").get()).isNull();
    assertNoMarkerInLogs();
  }

  @Test
  void aMissingRoleIsNonRetryableAndNamesThePath() {
    sandbox.unknownRole("aws/creds/review-cache");

    ApplicationFailure f = failure(() -> activities.issue(request(CredentialPurpose.BUILD, "b")));

    assertThat(f.getType()).isEqualTo("VaultRoleMissing");
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage()).contains("aws/creds/review-cache").contains("ephemera");
  }

  @Test
  void aSealedVaultIsRetriedAndWorksOnceUnsealed() {
    sandbox.seal();

    ApplicationFailure f = failure(() -> activities.issue(request(CredentialPurpose.BUILD, "b")));

    assertThat(f.getType()).isEqualTo("VaultUnavailable");
    assertThat(f.isNonRetryable()).isFalse();
    assertThat(f.getOriginalMessage()).contains("sealed");

    sandbox.unseal();
    assertThat(activities.issue(request(CredentialPurpose.BUILD, "b")).leases()).hasSize(3);
  }

  @Test
  void aServerErrorIsRetryable() {
    activities.issue(request(CredentialPurpose.DEPLOY, "pull")); // logged in
    sandbox.failNext(1);

    ApplicationFailure f =
        failure(() -> activities.issue(request(CredentialPurpose.DEPLOY, "pull")));

    assertThat(f.getType()).isEqualTo("VaultUnavailable");
    assertThat(f.isNonRetryable()).isFalse();
    assertThat(activities.issue(request(CredentialPurpose.DEPLOY, "pull")).leases()).hasSize(1);
  }

  @Test
  void aRevokedOrExpiredLoginIsReplacedAfterThe403() {
    activities.issue(request(CredentialPurpose.DEPLOY, "pull"));
    sandbox.expireTokens();

    activities.issue(request(CredentialPurpose.DEPLOY, "pull"));

    assertThat(sandbox.requests().stream().filter(r -> r.endsWith("/v1/auth/approle/login")))
        .hasSize(2);
  }

  @Test
  void aSecretOfAnotherWorkflowIsNeverOverwritten() {
    client
        .secrets()
        .inNamespace(NS)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName("taken")
                .withNamespace(NS)
                .addToLabels(Labels.MANAGED_BY, "ephemera")
                .addToAnnotations(Labels.WORKFLOW_ID_ANNOTATION, "review-app/42/mr-8")
                .endMetadata()
                .build())
        .create();

    ApplicationFailure f =
        failure(() -> activities.issue(request(CredentialPurpose.DEPLOY, "taken")));

    assertThat(f.getType()).isEqualTo("InvalidName");
    assertThat(sandbox.leases()).isEmpty();
  }

  @Test
  void anIncompleteRegistrySecretIsInvalidAndNamesTheMissingKey() {
    sandbox.putSecret("secret/ci/registry", Map.of("username", "u-" + SandboxVault.MARKER));

    ApplicationFailure f = failure(() -> activities.issue(request(CredentialPurpose.BUILD, "b")));

    assertThat(f.getType()).isEqualTo("VaultInvalid");
    assertThat(f.getOriginalMessage())
        .contains("secret/ci/registry")
        .contains("password")
        .doesNotContain(SandboxVault.MARKER);
  }

  private void assertNoMarkerInLogs() {
    assertThat(logs.list).isNotEmpty();
    assertThat(logs.list)
        .allSatisfy(e -> assertThat(e.getFormattedMessage()).doesNotContain(SandboxVault.MARKER));
  }

  private static int indexOf(List<String> requests, String part) {
    for (int i = 0; i < requests.size(); i++) {
      if (requests.get(i).contains(part)) {
        return i;
      }
    }
    return -1;
  }

  private static Map<String, String> decoded(Secret secret) {
    Map<String, String> out = new java.util.TreeMap<>();
    secret
        .getData()
        .forEach(
            (k, v) ->
                out.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
    return out;
  }

  static ApplicationFailure failure(ThrowingCallable call) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).isInstanceOf(ApplicationFailure.class);
    return (ApplicationFailure) thrown;
  }
}
