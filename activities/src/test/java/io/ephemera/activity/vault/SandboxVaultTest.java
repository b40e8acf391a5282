package io.ephemera.activity.vault;

import static org.assertj.core.api.Assertions.assertThat;

import io.ephemera.activity.vault.VaultProperties.Auth;
import io.ephemera.activity.vault.VaultProperties.Engine;
import io.ephemera.activity.vault.VaultProperties.SourceSpec;
import io.ephemera.activity.vault.VaultSession.VaultSecret;
import io.ephemera.sandbox.SandboxVault;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The sandbox Vault as the real session and a plain HTTP client see it. */
class SandboxVaultTest {
  static final JsonMapper JSON = JsonMapper.builder().build();
  static final HttpClient HTTP = HttpClient.newHttpClient();

  final MutableClock clock = new MutableClock(Instant.parse("2025-01-01T00:00:00Z"));
  SandboxVault sandbox;

  @TempDir Path dir;

  @BeforeEach
  void setUp() {
    sandbox =
        SandboxVault.start(clock)
            .loginTtl(Duration.ofMinutes(1))
            .awsRole("aws", "cache", Duration.ofMinutes(10));
  }

  @AfterEach
  void tearDown() {
    sandbox.close();
  }

  VaultSession session(Auth auth) {
    return new VaultSession(
        new VaultProperties(
            sandbox.url(), null, auth, null, Duration.ofSeconds(2), null, null, null, null),
        clock);
  }

  @Test
  void kubernetesLoginAndRenewalWorkAgainstTheSandbox() throws Exception {
    Path jwt = Files.writeString(dir.resolve("token"), "service-account-jwt");
    VaultSession vault = session(Auth.kubernetes(SandboxVault.KUBERNETES_ROLE, jwt.toString()));
    SourceSpec aws = new SourceSpec("build-cache", "aws/creds/cache", Engine.DYNAMIC, null, null);

    VaultSecret first = vault.read(aws);
    clock.advance(Duration.ofSeconds(50)); // a sixth of the minute left: renew
    VaultSecret second = vault.read(aws);

    assertThat(first.data().get("secret_key")).contains(SandboxVault.MARKER);
    assertThat(second.leaseId()).isNotEqualTo(first.leaseId());
    assertThat(sandbox.requests())
        .containsSubsequence(
            "POST /v1/auth/kubernetes/login",
            "GET /v1/aws/creds/cache",
            "POST /v1/auth/token/renew-self",
            "GET /v1/aws/creds/cache");
    vault.close();
  }

  @Test
  void anUnknownKubernetesRoleIsARoleMissing() throws Exception {
    Path jwt = Files.writeString(dir.resolve("token"), "service-account-jwt");
    VaultSession vault = session(Auth.kubernetes("nobody", jwt.toString()));

    var f =
        VaultSessionTest.failure(
            () ->
                vault.read(
                    new SourceSpec("build-cache", "aws/creds/cache", Engine.DYNAMIC, null, null)));

    assertThat(f.getType()).isEqualTo("VaultRoleMissing");
    assertThat(f.getOriginalMessage()).contains("nobody").contains("auth/kubernetes/login");
  }

  @Test
  void leasesMoveFromActiveToExpiredOrRevokedAndLookupFollows() throws Exception {
    VaultSession vault = session(Auth.token(sandbox.createToken(Duration.ZERO, false)));
    SourceSpec aws = new SourceSpec("build-cache", "aws/creds/cache", Engine.DYNAMIC, null, null);
    String kept = vault.read(aws).leaseId();
    String revoked = vault.read(aws).leaseId();
    String token = sandbox.createToken(Duration.ZERO, false);

    assertThat(lookup(token, kept).get("data").get("ttl").asLong()).isEqualTo(600);
    assertThat(vault.revokeLease(revoked)).isTrue();
    assertThat(status(token, revoked)).isEqualTo(400);
    clock.advance(Duration.ofMinutes(11));

    assertThat(sandbox.leases())
        .extracting(SandboxVault.LeaseEntry::leaseId, SandboxVault.LeaseEntry::state)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(kept, SandboxVault.STATE_EXPIRED),
            org.assertj.core.groups.Tuple.tuple(revoked, SandboxVault.STATE_REVOKED));
    assertThat(status(token, kept)).isEqualTo(400);
  }

  @Test
  void sealStatusAnswersSealedOrNotAndEverythingElseWaits() throws Exception {
    sandbox.seal();
    JsonNode status = get("/v1/sys/seal-status", null);
    HttpResponse<String> read =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(sandbox.url() + "/v1/aws/creds/cache")).build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(status.get("sealed").asBoolean()).isTrue();
    assertThat(read.statusCode()).isEqualTo(503);
    assertThat(JSON.readTree(read.body()).get("errors").get(0).asString())
        .isEqualTo("Vault is sealed");
    sandbox.unseal();
    assertThat(get("/v1/sys/seal-status", null).get("sealed").asBoolean()).isFalse();
  }

  @Test
  void aCallWithoutAValidTokenIsDenied() throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(sandbox.url() + "/v1/aws/creds/cache"))
                .header("X-Vault-Token", "hvs.unknown")
                .build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("permission denied");
    assertThat(sandbox.leases()).isEmpty();
  }

  private JsonNode lookup(String token, String leaseId) throws Exception {
    HttpResponse<String> r = lookupResponse(token, leaseId);
    assertThat(r.statusCode()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  private int status(String token, String leaseId) throws Exception {
    return lookupResponse(token, leaseId).statusCode();
  }

  private HttpResponse<String> lookupResponse(String token, String leaseId) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(sandbox.url() + "/v1/sys/leases/lookup"))
            .header("X-Vault-Token", token)
            .PUT(HttpRequest.BodyPublishers.ofString("{\"lease_id\":\"" + leaseId + "\"}"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode get(String path, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(sandbox.url() + path));
    if (token != null) {
      b.header("X-Vault-Token", token);
    }
    return JSON.readTree(HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString()).body());
  }
}
