package io.ephemera.activity.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.ephemera.activity.vault.VaultProperties.Auth;
import io.ephemera.activity.vault.VaultProperties.Engine;
import io.ephemera.activity.vault.VaultProperties.SourceSpec;
import io.ephemera.activity.vault.VaultSession.VaultSecret;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The session over real HTTP against MockWebServer answering with the envelopes of Vault's API
 * documentation, reading back what the driver sent: login per method, renewal, re-login after 403,
 * engine versions, and the error table.
 */
class VaultSessionTest {
  static final JsonMapper JSON = JsonMapper.builder().build();
  static final String TOKEN = "hvs.first-token-0123456789";
  static final String TOKEN_2 = "hvs.second-token-0123456789";
  static final String SECRET_VALUE = "s3cr3t-value-never-in-messages";

  final MutableClock clock = new MutableClock(Instant.parse("2025-01-01T00:00:00Z"));
  MockWebServer server;

  @TempDir Path dir;

  @BeforeEach
  void setUp() throws IOException {
    server = new MockWebServer();
    server.start(InetAddress.getLoopbackAddress(), 0);
  }

  @AfterEach
  void tearDown() {
    server.close();
  }

  VaultSession session(Auth auth) {
    return session(auth, null);
  }

  VaultSession session(Auth auth, String namespace) {
    VaultProperties p =
        new VaultProperties(
            server.url("/").toString(),
            namespace,
            auth,
            null,
            Duration.ofSeconds(2),
            null,
            null,
            null,
            null);
    return new VaultSession(p, clock);
  }

  static SourceSpec dynamic(String path) {
    return new SourceSpec("build-cache", path, Engine.DYNAMIC, null, null);
  }

  // ---- login per method ----

  @Test
  void kubernetesAuthLogsInWithTheServiceAccountTokenAndUsesTheClientToken() throws Exception {
    Path jwt = Files.writeString(dir.resolve("token"), "eyJhbGciOi.service-account.jwt\n");
    VaultSession vault = session(Auth.kubernetes("ephemera", jwt.toString()), "team-a");
    server.enqueue(login(TOKEN, 3600));
    server.enqueue(secret("aws/creds/review-cache/abc", 900, "{\"access_key\":\"AKIA1\"}"));

    VaultSecret s = vault.read(dynamic("aws/creds/review-cache"));

    RecordedRequest login = take();
    assertThat(login.getMethod()).isEqualTo("POST");
    assertThat(login.getUrl().encodedPath()).isEqualTo("/v1/auth/kubernetes/login");
    JsonNode body = JSON.readTree(login.getBody().utf8());
    assertThat(body.get("role").asString()).isEqualTo("ephemera");
    assertThat(body.get("jwt").asString()).isEqualTo("eyJhbGciOi.service-account.jwt");
    assertThat(login.getHeaders().get("X-Vault-Namespace")).isEqualTo("team-a");
    RecordedRequest read = take();
    assertThat(read.getHeaders().get("X-Vault-Token")).isEqualTo(TOKEN);
    assertThat(read.getHeaders().get("X-Vault-Namespace")).isEqualTo("team-a");
    assertThat(s.leaseId()).isEqualTo("aws/creds/review-cache/abc");
    assertThat(s.expiresAt()).isEqualTo(clock.instant().plusSeconds(900));
  }

  @Test
  void appRoleAuthSendsRoleIdAndTheSecretIdReadFromItsFile() throws Exception {
    Path secretId = Files.writeString(dir.resolve("secret-id"), "approle-secret-id-42\n");
    VaultProperties.Auth auth =
        new Auth(
            VaultProperties.AuthMethod.APPROLE,
            null,
            new VaultProperties.AppRole(
                "role-id-7", null, secretId.toString(), "ci-approle", "ephemera"),
            null);
    VaultSession vault = session(auth);
    server.enqueue(login(TOKEN, 3600));
    server.enqueue(secret("", 0, "{\"username\":\"u\",\"password\":\"p\"}"));

    vault.read(new SourceSpec("registry-push", "kv/ci/registry", Engine.KV1, null, null));

    RecordedRequest login = take();
    assertThat(login.getUrl().encodedPath()).isEqualTo("/v1/auth/ci-approle/login");
    JsonNode body = JSON.readTree(login.getBody().utf8());
    assertThat(body.get("role_id").asString()).isEqualTo("role-id-7");
    assertThat(body.get("secret_id").asString()).isEqualTo("approle-secret-id-42");
    assertThat(take().getUrl().encodedPath()).isEqualTo("/v1/kv/ci/registry");
  }

  @Test
  void tokenAuthLooksItsTokenUpAndUsesIt() throws Exception {
    VaultSession vault = session(Auth.token(TOKEN));
    server.enqueue(lookupSelf(0, false));
    server.enqueue(secret("", 0, "{\"username\":\"u\",\"password\":\"p\"}"));

    vault.read(new SourceSpec("registry-push", "secret/ci/registry", Engine.KV2, "secret", null));

    RecordedRequest lookup = take();
    assertThat(lookup.getMethod()).isEqualTo("GET");
    assertThat(lookup.getUrl().encodedPath()).isEqualTo("/v1/auth/token/lookup-self");
    assertThat(lookup.getHeaders().get("X-Vault-Token")).isEqualTo(TOKEN);
    RecordedRequest read = take();
    assertThat(read.getHeaders().get("X-Vault-Token")).isEqualTo(TOKEN);
  }

  // ---- engine versions ----

  @Test
  void dynamicSecretsAreReadAtTheirOwnPathNotTheKv2DataPath() throws Exception {
    VaultSession vault = session(Auth.token(TOKEN));
    server.enqueue(lookupSelf(0, false));
    server.enqueue(
        secret(
            "aws/creds/review-cache/x1y2",
            900,
            "{\"access_key\":\"AKIA1\",\"secret_key\":\"" + SECRET_VALUE + "\"}"));

    VaultSecret s = vault.read(dynamic("aws/creds/review-cache"));

    take();
    RecordedRequest read = take();
    assertThat(read.getMethod()).isEqualTo("GET");
    // The driver's default (KV v2) would have sent /v1/aws/data/creds/review-cache.
    assertThat(read.getUrl().encodedPath()).isEqualTo("/v1/aws/creds/review-cache");
    assertThat(s.leased()).isTrue();
    assertThat(s.data()).containsEntry("secret_key", SECRET_VALUE);
    assertThat(s.toString()).doesNotContain(SECRET_VALUE).contains("secret_key");
  }

  @Test
  void aDynamicSourceWithATtlAsksForItAsAWriteParameter() throws Exception {
    VaultSession vault = session(Auth.token(TOKEN));
    server.enqueue(lookupSelf(0, false));
    server.enqueue(secret("aws/creds/sts/1", 600, "{\"access_key\":\"A\",\"secret_key\":\"S\"}"));

    vault.read(
        new SourceSpec(
            "build-cache", "aws/creds/sts", Engine.DYNAMIC, null, Duration.ofMinutes(10)));

    take();
    RecordedRequest read = take();
    assertThat(read.getMethod()).isEqualTo("POST");
    assertThat(read.getUrl().encodedPath()).isEqualTo("/v1/aws/creds/sts");
    assertThat(JSON.readTree(read.getBody().utf8()).get("ttl").asString()).isEqualTo("600s");
  }

  @Test
  void kvVersion1And2AreReadAtTheirPaths() throws Exception {
    VaultSession vault = session(Auth.token(TOKEN));
    server.enqueue(lookupSelf(0, false));
    server.enqueue(secret("", 2764800, "{\"username\":\"v1user\",\"password\":\"v1pass\"}"));
    server.enqueue(
        secret(
            "",
            0,
            "{\"data\":{\"username\":\"v2user\",\"password\":\"v2pass\"},"
                + "\"metadata\":{\"created_time\":\"2025-01-01T00:00:00Z\",\"version\":3}}"));
    server.enqueue(
        secret("", 0, "{\"data\":{\"token\":\"glpat-x\"},\"metadata\":{\"version\":1}}"));

    VaultSecret v1 =
        vault.read(new SourceSpec("registry-push", "kv/ci/registry", Engine.KV1, null, null));
    VaultSecret v2 =
        vault.read(
            new SourceSpec("registry-push", "secret/ci/registry", Engine.KV2, "secret", null));
    VaultSecret deep =
        vault.read(
            new SourceSpec("source-read", "kv/team-a/git/42", Engine.KV2, "kv/team-a", null));

    take();
    assertThat(take().getUrl().encodedPath()).isEqualTo("/v1/kv/ci/registry");
    assertThat(take().getUrl().encodedPath()).isEqualTo("/v1/secret/data/ci/registry");
    assertThat(take().getUrl().encodedPath()).isEqualTo("/v1/kv/team-a/data/git/42");
    assertThat(v1.data()).containsEntry("username", "v1user");
    assertThat(v1.leased()).isFalse();
    assertThat(v2.data()).containsEntry("username", "v2user").containsEntry("password", "v2pass");
    assertThat(deep.data()).containsEntry("token", "glpat-x");
  }

  // ---- renewal and re-login ----

  @Test
  void theTokenIsRenewedWhenLessThanAThirdOfItsTtlRemains() throws Exception {
    VaultSession vault = session(Auth.approle("role-id", "secret-id"));
    server.enqueue(login(TOKEN, 60));
    server.enqueue(secret("", 0, "{\"username\":\"u\",\"password\":\"p\"}"));
    server.enqueue(secret("", 0, "{\"username\":\"u\",\"password\":\"p\"}"));
    server.enqueue(login(TOKEN, 60)); // renew-self answers with the auth block, same token
    server.enqueue(secret("", 0, "{\"username\":\"u\",\"password\":\"p\"}"));

    SourceSpec kv = new SourceSpec("registry-push", "kv/ci/registry", Engine.KV1, null, null);
    vault.read(kv);
    clock.advance(Duration.ofSeconds(30)); // half left: no renewal yet
    vault.read(kv);
    clock.advance(Duration.ofSeconds(15)); // a quarter left
    vault.read(kv);

    assertThat(take().getUrl().encodedPath()).isEqualTo("/v1/auth/approle/login");
    assertThat(take().getUrl().encodedPath()).isEqualTo("/v1/kv/ci/registry");
    assertThat(take().getUrl().encodedPath()).isEqualTo("/v1/kv/ci/registry");
    RecordedRequest renew = take();
    assertThat(renew.getMethod()).isEqualTo("POST");
    assertThat(renew.getUrl().encodedPath()).isEqualTo("/v1/auth/token/renew-self");
    assertThat(renew.getHeaders().get("X-Vault-Token")).isEqualTo(TOKEN);
    assertThat(take().getUrl().encodedPath()).isEqualTo("/v1/kv/ci/registry");
    assertThat(server.getRequestCount()).isEqualTo(5);
  }

  @Test
  void anExpiredTokenIsReplacedByANewLoginInsteadOfARenewal() throws Exception {
    VaultSession vault = session(Auth.approle("role-id", "secret-id"));
    server.enqueue(login(TOKEN, 60));
    server.enqueue(secret("", 0, "{\"username\":\"u\",\"password\":\"p\"}"));
    server.enqueue(login(TOKEN_2, 60));
    server.enqueue(secret("", 0, "{\"username\":\"u\",\"password\":\"p\"}"));

    SourceSpec kv = new SourceSpec("registry-push", "kv/ci/registry", Engine.KV1, null, null);
    vault.read(kv);
    clock.advance(Duration.ofMinutes(5));
    vault.read(kv);

    take();
    take();
    assertThat(take().getUrl().encodedPath()).isEqualTo("/v1/auth/approle/login");
    assertThat(take().getHeaders().get("X-Vault-Token")).isEqualTo(TOKEN_2);
  }

  @Test
  void a403LogsInAgainAndRetriesTheCallOnce() throws Exception {
    VaultSession vault = session(Auth.approle("role-id", "secret-id"));
    server.enqueue(login(TOKEN, 3600));
    server.enqueue(error(403, "permission denied"));
    server.enqueue(login(TOKEN_2, 3600));
    server.enqueue(secret("aws/creds/r/1", 900, "{\"access_key\":\"A\",\"secret_key\":\"S\"}"));

    VaultSecret s = vault.read(dynamic("aws/creds/r"));

    assertThat(s.leaseId()).isEqualTo("aws/creds/r/1");
    take();
    assertThat(take().getHeaders().get("X-Vault-Token")).isEqualTo(TOKEN);
    assertThat(take().getUrl().encodedPath()).isEqualTo("/v1/auth/approle/login");
    RecordedRequest retry = take();
    assertThat(retry.getUrl().encodedPath()).isEqualTo("/v1/aws/creds/r");
    assertThat(retry.getHeaders().get("X-Vault-Token")).isEqualTo(TOKEN_2);
  }

  // ---- errors ----

  @Test
  void permissionDeniedTwiceIsNonRetryableAndNamesPathAndRoleButNoSecret() throws Exception {
    Path jwt = Files.writeString(dir.resolve("token"), "jwt-value-never-in-messages");
    VaultSession vault = session(Auth.kubernetes("ephemera-builds", jwt.toString()));
    server.enqueue(login(TOKEN, 3600));
    server.enqueue(error(403, "1 error occurred:\n\t* permission denied\n\n"));
    server.enqueue(login(TOKEN_2, 3600));
    server.enqueue(error(403, "1 error occurred:\n\t* permission denied\n\n"));

    ApplicationFailure f = failure(() -> vault.read(dynamic("aws/creds/review-cache")));

    assertThat(f.getType()).isEqualTo("VaultForbidden");
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage())
        .contains("aws/creds/review-cache")
        .contains("ephemera-builds")
        .contains("auth/kubernetes")
        .contains("permission denied")
        .doesNotContain(TOKEN)
        .doesNotContain(TOKEN_2)
        .doesNotContain("jwt-value-never-in-messages");
    assertThat(server.getRequestCount()).isEqualTo(4);
  }

  @Test
  void anUnmountedPathOrUnknownRoleIsARoleMissing() {
    VaultSession vault = session(Auth.token(TOKEN));
    server.enqueue(lookupSelf(0, false));
    server.enqueue(error(404, "no handler for route \"aws/creds/nope\". route entry not found."));
    server.enqueue(error(400, "unknown role: reader"));
    server.enqueue(error(400, "Role \"gone\" not found"));

    ApplicationFailure noRoute = failure(() -> vault.read(dynamic("aws/creds/nope")));
    ApplicationFailure unknown = failure(() -> vault.read(dynamic("database/creds/reader")));
    ApplicationFailure aws = failure(() -> vault.read(dynamic("aws/creds/gone")));

    for (ApplicationFailure f : new ApplicationFailure[] {noRoute, unknown, aws}) {
      assertThat(f.getType()).isEqualTo("VaultRoleMissing");
      assertThat(f.isNonRetryable()).isTrue();
      assertThat(f.getOriginalMessage()).contains("the configured Vault token");
    }
    assertThat(noRoute.getOriginalMessage()).contains("aws/creds/nope");
    assertThat(unknown.getOriginalMessage()).contains("database/creds/reader");
  }

  @Test
  void aBadRequestIsInvalid() {
    VaultSession vault = session(Auth.token(TOKEN));
    server.enqueue(lookupSelf(0, false));
    server.enqueue(error(400, "invalid ttl"));

    ApplicationFailure f = failure(() -> vault.read(dynamic("aws/creds/r")));

    assertThat(f.getType()).isEqualTo("VaultInvalid");
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage()).contains("invalid ttl").contains("aws/creds/r");
  }

  @Test
  void aSealedVaultIsRetryableUnavailable() {
    VaultSession vault = session(Auth.token(TOKEN));
    server.enqueue(lookupSelf(0, false));
    server.enqueue(error(503, "Vault is sealed"));

    ApplicationFailure f = failure(() -> vault.read(dynamic("aws/creds/r")));

    assertThat(f.getType()).isEqualTo("VaultUnavailable");
    assertThat(f.isNonRetryable()).isFalse();
    assertThat(f.getOriginalMessage()).contains("sealed").contains("aws/creds/r");
  }

  @Test
  void aSealedVaultAtLoginIsRetryableUnavailable() {
    VaultSession vault = session(Auth.approle("role-id", "secret-id"));
    server.enqueue(error(503, "Vault is sealed"));

    ApplicationFailure f = failure(() -> vault.read(dynamic("aws/creds/r")));

    assertThat(f.getType()).isEqualTo("VaultUnavailable");
    assertThat(f.getOriginalMessage()).contains("auth/approle/login").contains("sealed");
  }

  @Test
  void anUnreachableVaultIsRetryableUnavailable() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    VaultProperties p =
        new VaultProperties(
            "http://127.0.0.1:" + port,
            null,
            Auth.token(TOKEN),
            null,
            Duration.ofSeconds(1),
            null,
            null,
            null,
            null);
    VaultSession vault = new VaultSession(p, clock);

    ApplicationFailure f = failure(() -> vault.read(dynamic("aws/creds/r")));

    assertThat(f.getType()).isEqualTo("VaultUnavailable");
    assertThat(f.isNonRetryable()).isFalse();
    assertThat(f.getOriginalMessage()).contains("could not be reached");
  }

  // ---- revocation ----

  @Test
  void revokePutsTheLeaseIdToSysLeasesRevoke() throws Exception {
    VaultSession vault = session(Auth.token(TOKEN));
    server.enqueue(lookupSelf(0, false));
    server.enqueue(new MockResponse.Builder().code(204).build());

    assertThat(vault.revokeLease("aws/creds/r/abc")).isTrue();

    take();
    RecordedRequest revoke = take();
    assertThat(revoke.getMethod()).isEqualTo("PUT");
    assertThat(revoke.getUrl().encodedPath()).isEqualTo("/v1/sys/leases/revoke");
    assertThat(JSON.readTree(revoke.getBody().utf8()).get("lease_id").asString())
        .isEqualTo("aws/creds/r/abc");
    assertThat(revoke.getHeaders().get("X-Vault-Token")).isEqualTo(TOKEN);
  }

  @Test
  void revokingAnUnknownLeaseIsSuccess() {
    VaultSession vault = session(Auth.token(TOKEN));
    server.enqueue(lookupSelf(0, false));
    server.enqueue(error(400, "lease not found"));
    server.enqueue(error(400, "invalid lease ID"));

    assertThat(vault.revokeLease("aws/creds/r/gone")).isFalse();
    assertThat(vault.revokeLease("aws/creds/r/other")).isFalse();
  }

  @Test
  void revokeDeniedIsForbidden() {
    VaultSession vault = session(Auth.token(TOKEN));
    server.enqueue(lookupSelf(0, false));
    server.enqueue(error(403, "permission denied"));

    ApplicationFailure f = failure(() -> vault.revokeLease("aws/creds/r/abc"));

    assertThat(f.getType()).isEqualTo("VaultForbidden");
    assertThat(f.getOriginalMessage()).contains("sys/leases/revoke").contains("aws/creds/r/abc");
  }

  // ---- Vault's documented envelopes ----

  static MockResponse login(String token, long ttl) {
    return json(
        200,
        "{\"request_id\":\"6d3a1f46-1b4a-4b7c-9b36-2d1c7c9bd0a1\",\"lease_id\":\"\","
            + "\"renewable\":false,\"lease_duration\":0,\"data\":null,\"wrap_info\":null,"
            + "\"warnings\":null,\"auth\":{\"client_token\":\""
            + token
            + "\",\"accessor\":\"0e9e354a-520f-df04-6867-ee81cae3d42d\","
            + "\"policies\":[\"default\",\"ephemera\"],\"token_policies\":[\"default\",\"ephemera\"],"
            + "\"metadata\":{\"role\":\"ephemera\"},\"lease_duration\":"
            + ttl
            + ",\"renewable\":true,\"entity_id\":\"\",\"token_type\":\"service\",\"orphan\":true}}");
  }

  static MockResponse lookupSelf(long ttl, boolean renewable) {
    return json(
        200,
        "{\"request_id\":\"a1\",\"lease_id\":\"\",\"renewable\":false,\"lease_duration\":0,"
            + "\"data\":{\"accessor\":\"8609694a-cdbc-db9b-d345-e782dbb562ed\","
            + "\"creation_time\":1523979354,\"creation_ttl\":"
            + ttl
            + ",\"display_name\":\"ephemera\",\"entity_id\":\"\",\"expire_time\":null,"
            + "\"explicit_max_ttl\":0,\"id\":\""
            + TOKEN
            + "\",\"issue_time\":\"2018-04-17T11:35:54.466476215-04:00\",\"meta\":null,"
            + "\"num_uses\":0,\"orphan\":true,\"path\":\"auth/token/create\","
            + "\"policies\":[\"ephemera\"],\"renewable\":"
            + renewable
            + ",\"ttl\":"
            + ttl
            + ",\"type\":\"service\"},\"wrap_info\":null,\"warnings\":null,\"auth\":null}");
  }

  static MockResponse secret(String leaseId, long duration, String data) {
    return json(
        200,
        "{\"request_id\":\"b2\",\"lease_id\":\""
            + leaseId
            + "\",\"renewable\":"
            + !leaseId.isEmpty()
            + ",\"lease_duration\":"
            + duration
            + ",\"data\":"
            + data
            + ",\"wrap_info\":null,\"warnings\":null,\"auth\":null}");
  }

  static MockResponse error(int code, String message) {
    return json(code, "{\"errors\":[" + JSON.writeValueAsString(message) + "]}");
  }

  static MockResponse json(int code, String body) {
    return new MockResponse.Builder()
        .code(code)
        .setHeader("Content-Type", "application/json")
        .body(body)
        .build();
  }

  RecordedRequest take() throws InterruptedException {
    RecordedRequest r = server.takeRequest(2, TimeUnit.SECONDS);
    assertThat(r).as("a request to the fake Vault").isNotNull();
    return r;
  }

  static ApplicationFailure failure(ThrowingCallable call) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).isInstanceOf(ApplicationFailure.class);
    return (ApplicationFailure) thrown;
  }
}
