package io.ephemera.activity.vault;

import io.ephemera.activity.vault.VaultProperties.AuthMethod;
import io.ephemera.activity.vault.VaultProperties.Engine;
import io.ephemera.activity.vault.VaultProperties.SourceSpec;
import io.ephemera.common.FailureType;
import io.github.jopenlibs.vault.EnvironmentLoader;
import io.github.jopenlibs.vault.Vault;
import io.github.jopenlibs.vault.VaultConfig;
import io.github.jopenlibs.vault.VaultException;
import io.github.jopenlibs.vault.VaultImpl;
import io.github.jopenlibs.vault.response.AuthResponse;
import io.github.jopenlibs.vault.response.LogicalResponse;
import io.github.jopenlibs.vault.response.LookupResponse;
import io.github.jopenlibs.vault.rest.Rest;
import io.github.jopenlibs.vault.rest.RestResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.IntPredicate;
import java.util.logging.Level;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ephemera's logged-in connection to Vault, on vault-java-driver.
 *
 * <ul>
 *   <li><b>Login</b> by the configured method (Kubernetes service-account token re-read at every
 *       login, AppRole, or a token checked with {@code lookup-self}), lazily at the first call so a
 *       Vault outage never stops the worker from starting.
 *   <li><b>Renewal</b>: before a call, a token with less than a third of its TTL left is renewed
 *       ({@code renew-self}); when it cannot be renewed (expired, past its max TTL) Ephemera logs
 *       in again. A 403 on a call made with a token that may have expired or been revoked meanwhile
 *       triggers one fresh login and one retry of that call; a second 403 is {@code
 *       VaultForbidden}.
 *   <li><b>Engine versions</b>: the driver's default is KV v2, which rewrites {@code aws/creds/x}
 *       to {@code aws/data/creds/x}. Every call here therefore uses a client of engine version 1,
 *       except reads and writes of KV v2 mounts, which use version 2 with the mount's depth.
 *   <li><b>Answers</b>: the driver returns most 4xx as responses rather than exceptions, so every
 *       status is checked here and turned into a typed failure by {@link VaultErrors}.
 * </ul>
 *
 * Thread-safe. Nothing here logs or prints a token, secret id or secret value.
 */
public class VaultSession implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(VaultSession.class);

  /** The driver logs "namespace bound" at INFO on every client; held strongly to keep it quiet. */
  private static final java.util.logging.Logger DRIVER_LOG =
      java.util.logging.Logger.getLogger(VaultImpl.class.getCanonicalName());

  static {
    DRIVER_LOG.setLevel(Level.WARNING);
  }

  /** Settings never come from VAULT_* variables or ~/.vault-token behind the configuration. */
  private static final EnvironmentLoader NO_ENVIRONMENT =
      new EnvironmentLoader() {
        @Override
        public String loadVariable(String name) {
          return null;
        }
      };

  private final VaultProperties properties;
  private final AuthMethod method;
  private final Clock clock;
  private final HttpClient http;
  private final int timeoutSeconds;

  // Guarded by this.
  private String token;
  private Instant obtainedAt;

  /** Zero for a token that never expires. */
  private Duration ttl = Duration.ZERO;

  private boolean renewable;

  public VaultSession(VaultProperties properties) {
    this(properties, Clock.systemUTC());
  }

  public VaultSession(VaultProperties properties, Clock clock) {
    this.properties = Objects.requireNonNull(properties, "properties");
    if (!properties.configured()) {
      throw new IllegalArgumentException("ephemera.vault.address is not set");
    }
    this.method = properties.auth().resolve();
    this.clock = clock;
    this.timeoutSeconds = (int) Math.max(1, ceilSeconds(properties.requestTimeout()));
    HttpClient.Builder b =
        HttpClient.newBuilder()
            // As the driver does: Vault Agent fails proxying h2c.
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(properties.requestTimeout());
    if (properties.tls().caCert() != null) {
      b.sslContext(sslContext(properties.tls().caCert()));
    }
    this.http = b.build();
    log.info(
        "Vault at {}{}, logging in with {}",
        properties.address(),
        properties.namespace() == null ? "" : " (namespace " + properties.namespace() + ")",
        identity());
  }

  public VaultProperties properties() {
    return properties;
  }

  /** Ephemera's Vault identity for messages: method, role and auth mount; never a credential. */
  public String identity() {
    return switch (method) {
      case KUBERNETES ->
          "Vault role '"
              + properties.auth().kubernetes().role()
              + "' (kubernetes auth at auth/"
              + properties.auth().kubernetes().mount()
              + ")";
      case APPROLE ->
          (properties.auth().approle().roleName() == null
                  ? "the configured AppRole"
                  : "AppRole '" + properties.auth().approle().roleName() + "'")
              + " (approle auth at auth/"
              + properties.auth().approle().mount()
              + ")";
      case TOKEN -> "the configured Vault token (token auth)";
    };
  }

  // ---- operations ----

  /** Reads one credential source; a dynamic engine's answer carries its lease. */
  public VaultSecret read(SourceSpec spec) {
    String path = spec.path();
    if (spec.engine() == Engine.KUBERNETES) {
      throw new IllegalArgumentException(
          path + " is a Kubernetes secrets engine role: issue it with kubernetesToken");
    }
    LogicalResponse r;
    if (spec.engine() == Engine.KV2) {
      int depth = depth(spec.mount());
      r = call("read", path, 200, t -> Answer.of(kv2(t, depth).logical().read(path))).logical();
    } else if (spec.engine() == Engine.DYNAMIC && spec.ttl() != null) {
      // Engines that take a TTL (AWS STS credentials, ...) take it as a write parameter.
      Map<String, Object> body = Map.of("ttl", ceilSeconds(spec.ttl()) + "s");
      r = call("read", path, 200, t -> Answer.of(v1(t).logical().write(path, body))).logical();
    } else {
      r = call("read", path, 200, t -> Answer.of(v1(t).logical().read(path))).logical();
    }
    return secret(path, r);
  }

  /**
   * Issues a service-account token for {@code namespace} from a role of Vault's Kubernetes secrets
   * engine: a write to {@code <mount>/creds/<role>} with {@code kubernetes_namespace} (and {@code
   * ttl} when set). The answer's data holds {@code service_account_token}, {@code
   * service_account_name} and {@code service_account_namespace}; its lease revokes the token.
   */
  public VaultSecret kubernetesToken(SourceSpec spec, String namespace) {
    if (spec.engine() != Engine.KUBERNETES) {
      throw new IllegalArgumentException(spec.path() + " is not a Kubernetes secrets engine role");
    }
    String path = spec.path();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("kubernetes_namespace", namespace);
    if (spec.ttl() != null) {
      body.put("ttl", ceilSeconds(spec.ttl()) + "s");
    }
    LogicalResponse r =
        call("read", path, 200, t -> Answer.of(v1(t).logical().write(path, body))).logical();
    return secret(path, r);
  }

  /** A KV v2 secret, or {@code null} when there is none. */
  public VaultSecret readKv2(String mount, String path) {
    String full = mount + "/" + path;
    Answer a =
        call(
            "read",
            full,
            s -> s == 200 || s == 404,
            t -> Answer.of(kv2(t, depth(mount)).logical().read(full)));
    return a.status() == 404 ? null : secret(full, a.logical());
  }

  public void writeKv2(String mount, String path, Map<String, Object> data) {
    String full = mount + "/" + path;
    call(
        "write",
        full,
        s -> s == 200 || s == 204,
        t -> Answer.of(kv2(t, depth(mount)).logical().write(full, data)));
  }

  /** The keys right under a KV v2 folder, sorted; empty when there are none. */
  public List<String> listKv2(String mount, String path) {
    String full = mount + "/" + path;
    Answer a =
        call(
            "list",
            full,
            s -> s == 200 || s == 404,
            t -> {
              LogicalResponse r = kv2(t, depth(mount)).logical().list(full);
              if (r == null) {
                // The driver answers null for a 404 it raised itself.
                return new Answer(404, new byte[0], null);
              }
              return Answer.of(r);
            });
    if (a.status() == 404 || a.logical() == null) {
      return List.of();
    }
    List<String> keys = new ArrayList<>(a.logical().getListData());
    keys.sort(null);
    return List.copyOf(keys);
  }

  /** Deletes a KV v2 secret with all its versions; a missing one is success. */
  public void deleteKv2(String mount, String path) {
    String full = mount + "/" + path;
    call(
        "delete",
        full,
        s -> s == 204 || s == 200 || s == 404,
        t -> Answer.of(kv2(t, depth(mount)).logical().delete(full)));
  }

  /**
   * Revokes a lease ({@code PUT sys/leases/revoke}).
   *
   * @return {@code false} when Vault did not know the lease (expired, already revoked): success too
   */
  public boolean revokeLease(String leaseId) {
    byte[] body = ("{\"lease_id\":" + jsonString(leaseId) + "}").getBytes(StandardCharsets.UTF_8);
    Answer a =
        call(
            "revoke",
            "sys/leases/revoke (lease " + leaseId + ")",
            s -> s != 403,
            t -> Answer.of(rest(t, "sys/leases/revoke").body(body).put()));
    if (a.status() == 200 || a.status() == 204) {
      return true;
    }
    if (VaultErrors.leaseGone(a.status(), a.body())) {
      return false;
    }
    throw VaultErrors.of(
        a.status(), a.body(), "revoke", "sys/leases/revoke (lease " + leaseId + ")", identity());
  }

  @Override
  public void close() {
    http.close();
  }

  // ---- the call protocol ----

  private Answer call(String operation, String path, int ok, VaultCall op) {
    return call(operation, path, s -> s == ok, op);
  }

  private Answer call(String operation, String path, IntPredicate accepted, VaultCall op) {
    String used = currentToken();
    for (int attempt = 0; ; attempt++) {
      Answer a = attempt(op, used);
      if (a.status() > 0 && accepted.test(a.status())) {
        return a;
      }
      if (a.status() == 403 && attempt == 0 && method != AuthMethod.TOKEN) {
        log.info(
            "Vault answered 403 on {} of {}: the token may have expired; logging in again and"
                + " retrying once",
            operation,
            path);
        used = relogin(used);
        continue;
      }
      if (a.status() <= 0) {
        log.warn("Vault could not be reached for {} of {}: {}", operation, path, a.problem());
        throw VaultErrors.unreachable(operation, path, identity());
      }
      throw VaultErrors.of(a.status(), a.body(), operation, path, identity());
    }
  }

  private static Answer attempt(VaultCall op, String token) {
    try {
      return op.run(token);
    } catch (VaultException e) {
      // Thrown for 5xx and 412 (with the body in its message) and when there was no answer.
      return new Answer(e.getHttpStatusCode(), bodyOf(e), null, e.getClass().getSimpleName());
    } catch (Exception e) {
      // RestException (no answer: refused, timed out, TLS) and anything unexpected.
      return new Answer(0, new byte[0], null, e.getClass().getSimpleName());
    }
  }

  /** The token to use, logging in or renewing first when needed. */
  private synchronized String currentToken() {
    if (token == null) {
      login();
      return token;
    }
    if (ttl.isZero()) {
      return token;
    }
    Duration remaining = Duration.between(clock.instant(), obtainedAt.plus(ttl));
    if (remaining.compareTo(ttl.dividedBy(3)) >= 0) {
      return token;
    }
    if (renewable && !remaining.isNegative() && !remaining.isZero()) {
      try {
        AuthResponse r = v1(token).auth().renewSelf();
        obtainedAt = clock.instant();
        ttl = Duration.ofSeconds(r.getAuthLeaseDuration());
        renewable = r.isAuthRenewable();
        log.info("Renewed Ephemera's Vault token: valid for {} more", ttl);
        return token;
      } catch (VaultException e) {
        log.info(
            "Renewing Ephemera's Vault token failed (HTTP {}); logging in again",
            e.getHttpStatusCode());
      }
    }
    if (method == AuthMethod.TOKEN) {
      log.warn(
          "Ephemera's Vault token expires in {} and cannot be renewed; configure a renewable or"
              + " periodic token, or use Kubernetes or AppRole auth",
          remaining);
      return token;
    }
    login();
    return token;
  }

  private synchronized String relogin(String used) {
    if (token != null && !token.equals(used)) {
      // Another call logged in meanwhile.
      return token;
    }
    login();
    return token;
  }

  private void login() {
    String loginPath =
        switch (method) {
          case KUBERNETES -> "auth/" + properties.auth().kubernetes().mount() + "/login";
          case APPROLE -> "auth/" + properties.auth().approle().mount() + "/login";
          case TOKEN -> "auth/token/lookup-self";
        };
    try {
      switch (method) {
        case KUBERNETES -> {
          String jwt =
              readFile(properties.auth().kubernetes().tokenPath(), "service-account token");
          accept(
              v1(null)
                  .auth()
                  .loginByKubernetes(
                      properties.auth().kubernetes().role(),
                      jwt,
                      "auth/" + properties.auth().kubernetes().mount()));
        }
        case APPROLE -> {
          VaultProperties.AppRole a = properties.auth().approle();
          String secretId =
              a.secretIdFile() != null
                  ? readFile(a.secretIdFile(), "AppRole secret-id")
                  : a.secretId();
          accept(v1(null).auth().loginByAppRole(a.mount(), a.roleId(), secretId));
        }
        case TOKEN -> {
          String t = properties.auth().token();
          LookupResponse r = v1(t).auth().lookupSelf();
          token = t;
          obtainedAt = clock.instant();
          ttl = Duration.ofSeconds(Math.max(0, r.getTTL()));
          renewable = r.isRenewable();
        }
      }
    } catch (VaultException e) {
      int status = e.getHttpStatusCode();
      if (status <= 0) {
        log.warn("Vault could not be reached to log in: {}", e.getClass().getSimpleName());
        throw VaultErrors.unreachable("login", loginPath, identity());
      }
      throw VaultErrors.of(status, bodyOf(e), "login", loginPath, identity());
    }
    log.info(
        "Logged in to Vault as {}: token valid for {}{}",
        identity(),
        ttl.isZero() ? "ever" : ttl,
        renewable ? ", renewable" : "");
  }

  private void accept(AuthResponse r) {
    String t = r.getAuthClientToken();
    if (t == null || t.isBlank()) {
      throw FailureType.VaultInvalid.failure(
          "Vault's login answer for " + identity() + " carried no client token");
    }
    token = t;
    obtainedAt = clock.instant();
    ttl = Duration.ofSeconds(Math.max(0, r.getAuthLeaseDuration()));
    renewable = r.isAuthRenewable();
  }

  private String readFile(String file, String what) {
    try {
      String s = Files.readString(Path.of(file)).trim();
      if (s.isEmpty()) {
        throw FailureType.VaultInvalid.failure("the " + what + " file " + file + " is empty");
      }
      return s;
    } catch (IOException e) {
      throw FailureType.VaultInvalid.failure(
          "cannot read the "
              + what
              + " file "
              + file
              + " to log in to Vault as "
              + identity()
              + ": "
              + e.getClass().getSimpleName());
    }
  }

  // ---- clients ----

  /** A client that never rewrites paths: dynamic engines, KV v1, sys/, auth/. */
  private Vault v1(String token) throws VaultException {
    return Vault.create(config(token).engineVersion(1).build(), 1);
  }

  /** A KV v2 client for a mount {@code depth} segments deep. */
  private Vault kv2(String token, int depth) throws VaultException {
    return Vault.create(config(token).engineVersion(2).prefixPathDepth(depth).build(), 2);
  }

  private VaultConfig config(String token) throws VaultException {
    VaultConfig c =
        new VaultConfig()
            .environmentLoader(NO_ENVIRONMENT)
            .address(properties.address())
            .httpClient(http)
            .openTimeout(timeoutSeconds)
            .readTimeout(timeoutSeconds);
    if (token != null) {
      c.token(token);
    }
    if (properties.namespace() != null) {
      c.nameSpace(properties.namespace());
    }
    return c;
  }

  private Rest rest(String token, String path) throws VaultException {
    Rest r =
        new Rest(http)
            .url(properties.address() + "/v1/" + path)
            .header("X-Vault-Token", token)
            .header("X-Vault-Request", "true")
            .readTimeoutSeconds(timeoutSeconds);
    if (properties.namespace() != null) {
      r.header("X-Vault-Namespace", properties.namespace());
    }
    return r;
  }

  private static int depth(String mount) {
    return mount.split("/").length;
  }

  private VaultSecret secret(String path, LogicalResponse r) {
    Map<String, String> data = new TreeMap<>(r.getData() == null ? Map.of() : r.getData());
    String leaseId = r.getLeaseId() == null ? "" : r.getLeaseId();
    long seconds = r.getLeaseDuration() == null ? 0 : r.getLeaseDuration();
    Instant expiresAt = leaseId.isEmpty() ? null : clock.instant().plusSeconds(seconds);
    return new VaultSecret(
        path, leaseId, expiresAt, Boolean.TRUE.equals(r.getRenewable()), Map.copyOf(data));
  }

  // ---- helpers ----

  private static long ceilSeconds(Duration d) {
    long s = d.getSeconds();
    return d.getNano() > 0 ? s + 1 : s;
  }

  /** The driver puts the response body after "Response body: " in its exception messages. */
  private static byte[] bodyOf(VaultException e) {
    String m = e.getMessage();
    int i = m == null ? -1 : m.indexOf("Response body: ");
    return i < 0
        ? new byte[0]
        : m.substring(i + "Response body: ".length()).getBytes(StandardCharsets.UTF_8);
  }

  private static String jsonString(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  private static SSLContext sslContext(String pemFile) {
    try (InputStream in = Files.newInputStream(Path.of(pemFile))) {
      Collection<? extends Certificate> certs =
          CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certs.isEmpty()) {
        throw new IllegalArgumentException(
            "ephemera.vault.tls.ca-cert holds no PEM certificate: " + pemFile);
      }
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      int i = 0;
      for (Certificate c : certs) {
        store.setCertificateEntry("vault-ca-" + i++, c);
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(store);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "ephemera.vault.tls.ca-cert cannot be read as PEM certificates: " + pemFile, e);
    }
  }

  @FunctionalInterface
  private interface VaultCall {
    Answer run(String token) throws Exception;
  }

  /** One HTTP answer: status, body, and the driver's parse when there is one. */
  private record Answer(int status, byte[] body, LogicalResponse logical, String problem) {
    Answer(int status, byte[] body, LogicalResponse logical) {
      this(status, body, logical, null);
    }

    static Answer of(LogicalResponse r) {
      RestResponse rest = r.getRestResponse();
      return new Answer(rest.getStatus(), rest.getBody(), r);
    }

    static Answer of(RestResponse r) {
      return new Answer(r.getStatus(), r.getBody(), null);
    }
  }

  /**
   * One secret read from Vault. {@link #toString()} names the keys, never the values.
   *
   * @param leaseId empty for a secret without a lease (KV)
   * @param expiresAt when the lease ends; {@code null} without a lease
   */
  public record VaultSecret(
      String path, String leaseId, Instant expiresAt, boolean renewable, Map<String, String> data) {
    public boolean leased() {
      return !leaseId.isEmpty();
    }

    @Override
    public String toString() {
      Map<String, String> keys = new LinkedHashMap<>();
      data.keySet().stream().sorted().forEach(k -> keys.put(k, "***"));
      return "VaultSecret[path="
          + path
          + ", leaseId="
          + leaseId
          + ", expiresAt="
          + expiresAt
          + ", renewable="
          + renewable
          + ", data="
          + keys
          + "]";
    }
  }
}
