package io.ephemera.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.HttpUrl;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * An in-process stand-in for the parts of HashiCorp Vault's HTTP API Ephemera uses, for the {@code
 * local} profile and tests: MockWebServer on loopback (random port) with a dispatcher holding
 * state, answering with Vault's documented envelopes ({@code request_id}, {@code lease_id}, {@code
 * renewable}, {@code lease_duration}, {@code data}, {@code wrap_info}, {@code warnings}, {@code
 * auth}; errors as {@code {"errors": [...]}}), so the real adapter on vault-java-driver talks real
 * HTTP to it.
 *
 * <ul>
 *   <li>Login: {@code auth/<mount>/login} for Kubernetes ({@code role}, {@code jwt}) and AppRole
 *       ({@code role_id}, {@code secret_id}) mounts; {@code auth/token/lookup-self} and {@code
 *       renew-self}. Tokens expire after their TTL (then 403, as in Vault).
 *   <li>KV v1 and v2 mounts (default {@code kv} v1 and {@code secret} v2): read, write, list
 *       ({@code LIST} or {@code GET ?list=true}), delete.
 *   <li>Dynamic engines at {@code <mount>/creds/<role>} ({@code aws}: {@code access_key}, {@code
 *       secret_key}, {@code security_token}; generic: {@code username}, {@code password}), each
 *       answer with a lease; a {@code ttl} parameter shortens it. The Kubernetes secrets engine
 *       ({@link #kubernetesSecretsRole}) takes a write with {@code kubernetes_namespace} and
 *       answers {@code service_account_token}, {@code service_account_name} and {@code
 *       service_account_namespace}.
 *   <li>{@code sys/leases/revoke}, {@code sys/leases/lookup}, {@code sys/seal-status}.
 *   <li>Fault switches: {@link #seal()}/{@link #unseal()}, {@link #deny(String)}, {@link
 *       #unknownRole(String)}, {@link #failNext(int)}, {@link #expireTokens()}.
 * </ul>
 *
 * Every secret value it issues (tokens, dynamic credentials, seeded KV values) contains {@link
 * #MARKER}, so tests can prove that no secret reaches Temporal. Leases are kept with their state
 * ({@code active}, {@code revoked}, {@code expired}) and listed by {@link #leases()}. Policies are
 * not modelled beyond {@link #deny(String)}. State is in memory and lost on restart; to use a real
 * Vault set {@code ephemera.vault.address}.
 */
public final class SandboxVault implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SandboxVault.class);

  /** Contained in every secret value the sandbox issues. */
  public static final String MARKER = "ephemera-sandbox-secret";

  /** The Kubernetes auth role the sandbox accepts at {@code auth/kubernetes}. */
  public static final String KUBERNETES_ROLE = "ephemera";

  /** The AppRole role-id the sandbox accepts at {@code auth/approle}. */
  public static final String APPROLE_ROLE_ID = "ephemera-sandbox-role-id";

  public static final String STATE_ACTIVE = "active";
  public static final String STATE_REVOKED = "revoked";
  public static final String STATE_EXPIRED = "expired";

  private static final java.util.logging.Logger MOCK_WEB_SERVER_LOG =
      java.util.logging.Logger.getLogger(MockWebServer.class.getName());

  private static final int MAX_REQUEST_LOG = 200;

  private final MockWebServer server = new MockWebServer();
  private final JsonMapper json = JsonMapper.builder().build();
  private final SecureRandom random = new SecureRandom();
  private final Clock clock;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final String approleSecretId;
  private final SandboxFaults faults = new SandboxFaults("Vault");

  // Guarded by this.
  private final Map<String, Token> tokens = new HashMap<>();
  private final Map<String, Set<String>> kubernetesRoles = new HashMap<>();
  private final Map<String, Map<String, String>> appRoles = new HashMap<>();
  private final Map<String, Integer> kvMounts = new HashMap<>();
  private final Map<String, TreeMap<String, Map<String, String>>> kv = new HashMap<>();
  private final Map<String, Engine> engines = new HashMap<>();
  private final Set<String> kubernetesEngines = new TreeSet<>();
  private final LinkedHashMap<String, LeaseRecord> leases = new LinkedHashMap<>();
  private final Set<String> denied = new TreeSet<>();
  private final Set<String> unknownRoles = new TreeSet<>();
  private final Deque<String> requestLog = new ArrayDeque<>();
  private boolean sealed;
  private int failNext;
  private Duration loginTtl = Duration.ofHours(1);

  private SandboxVault(Clock clock) {
    this.clock = clock;
    MOCK_WEB_SERVER_LOG.setLevel(Level.WARNING);
    approleSecretId = MARKER + "-secret-id-" + hex(8);
    kubernetesRoles.put("kubernetes", new TreeSet<>(Set.of(KUBERNETES_ROLE)));
    appRoles.put("approle", new HashMap<>(Map.of(APPROLE_ROLE_ID, approleSecretId)));
    kvMounts.put("secret", 2);
    kvMounts.put("kv", 1);
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            forgetRequests();
            return faults.serve(
                () -> dispatchOrError(request), status -> error(status, "sandbox fault injection"));
          }
        });
  }

  private MockResponse dispatchOrError(RecordedRequest request) {
    try {
      return dispatch(request);
    } catch (JacksonException e) {
      return error(400, "failed to parse JSON input: " + e.getOriginalMessage());
    } catch (RuntimeException e) {
      log.warn("Sandbox Vault failed on {}: {}", request.getRequestLine(), e.toString());
      return error(500, "internal error");
    }
  }

  /**
   * Probabilistic fault injection for chaos tests (off by default): see {@link SandboxFaults}. A
   * faulted request is answered 5xx, hung up on, or applied and then hung up on.
   */
  public SandboxFaults faults() {
    return faults;
  }

  /** Starts the sandbox on loopback, on a free port, on the system clock. */
  public static SandboxVault start() {
    return start(Clock.systemUTC());
  }

  /** Starts the sandbox on loopback with {@code clock} deciding token and lease expiry. */
  public static SandboxVault start(Clock clock) {
    SandboxVault vault = new SandboxVault(clock);
    try {
      vault.server.start(InetAddress.getLoopbackAddress(), 0);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot start the sandbox Vault", e);
    }
    log.info(
        "Vault SANDBOX at {}: an in-memory stand-in for Vault's login, KV, dynamic secrets and"
            + " lease endpoints, not a Vault. Everything is lost on restart. For a real Vault set"
            + " ephemera.vault.address.",
        vault.url());
    return vault;
  }

  /**
   * The address to configure as {@code ephemera.vault.address}, e.g. {@code http://127.0.0.1:4711}.
   */
  public String url() {
    InetAddress loopback = InetAddress.getLoopbackAddress();
    String host = loopback.getHostAddress();
    return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + server.getPort();
  }

  // ---- configuration ----

  /** The secret-id that logs in with {@link #APPROLE_ROLE_ID} at {@code auth/approle}. */
  public String approleSecretId() {
    return approleSecretId;
  }

  /** Accepts Kubernetes logins for {@code role} at {@code auth/<mount>}. */
  public synchronized SandboxVault kubernetesRole(String mount, String role) {
    kubernetesRoles.computeIfAbsent(mount, m -> new TreeSet<>()).add(role);
    return this;
  }

  /** Accepts AppRole logins at {@code auth/<mount>}. */
  public synchronized SandboxVault appRole(String mount, String roleId, String secretId) {
    appRoles.computeIfAbsent(mount, m -> new HashMap<>()).put(roleId, secretId);
    return this;
  }

  /** TTL of tokens issued by logins (default 1h), renewable. */
  public synchronized SandboxVault loginTtl(Duration ttl) {
    loginTtl = ttl;
    return this;
  }

  /** Issues a token directly (for token auth), as {@code vault token create} would. */
  public synchronized String createToken(Duration ttl, boolean renewable) {
    return newToken(ttl, renewable, "token").id();
  }

  /** Mounts a KV engine of {@code version} 1 or 2 at {@code mount}. */
  public synchronized SandboxVault kvMount(String mount, int version) {
    if (version != 1 && version != 2) {
      throw new IllegalArgumentException("KV version must be 1 or 2");
    }
    kvMounts.put(mount, version);
    return this;
  }

  /**
   * Seeds a KV secret at {@code path} ({@code <mount>/<path>}, without {@code data/}). Every value
   * must contain {@link #MARKER}: whatever the sandbox hands out as a secret carries it.
   */
  public synchronized SandboxVault putSecret(String path, Map<String, String> data) {
    data.forEach(
        (k, v) -> {
          if (v == null || !v.contains(MARKER)) {
            throw new IllegalArgumentException(
                "sandbox secret values must contain " + MARKER + " (key " + k + ")");
          }
        });
    String mount = kvMountOf(path);
    if (mount == null) {
      throw new IllegalArgumentException("no KV mount holds " + path);
    }
    kv.computeIfAbsent(mount, m -> new TreeMap<>())
        .put(path.substring(mount.length() + 1), Map.copyOf(data));
    return this;
  }

  /** Mounts the AWS secrets engine at {@code mount} with {@code role} (default TTL {@code ttl}). */
  public synchronized SandboxVault awsRole(String mount, String role, Duration ttl) {
    engines
        .computeIfAbsent(mount, m -> new Engine(true, new HashMap<>(), null))
        .roles
        .put(role, ttl);
    return this;
  }

  /**
   * Mounts Vault's Kubernetes secrets engine at {@code mount} with {@code role} (default TTL {@code
   * ttl}): {@code POST <mount>/creds/<role>} with {@code kubernetes_namespace} answers a
   * service-account token for that namespace, as the engine's API documents.
   */
  public synchronized SandboxVault kubernetesSecretsRole(String mount, String role, Duration ttl) {
    awsRole(mount, role, ttl);
    kubernetesEngines.add(mount);
    return this;
  }

  /**
   * Mounts a generic dynamic engine at {@code mount} (username/password credentials): {@code role}
   * may be {@code "*"} for any role name.
   */
  public synchronized SandboxVault dynamicRole(String mount, String role, Duration ttl) {
    Engine e = engines.computeIfAbsent(mount, m -> new Engine(false, new HashMap<>(), null));
    if (role.equals("*")) {
      engines.put(mount, new Engine(false, e.roles, ttl));
    } else {
      e.roles.put(role, ttl);
    }
    return this;
  }

  // ---- fault switches ----

  /** From now on every call but {@code sys/seal-status} answers 503 "Vault is sealed". */
  public synchronized void seal() {
    sealed = true;
  }

  public synchronized void unseal() {
    sealed = false;
  }

  /** Calls to paths starting with {@code pathPrefix} answer 403 permission denied. */
  public synchronized void deny(String pathPrefix) {
    denied.add(pathPrefix);
  }

  public synchronized void allow(String pathPrefix) {
    denied.remove(pathPrefix);
  }

  /** Reads of {@code path} answer 400 "unknown role", as if its role had been deleted. */
  public synchronized void unknownRole(String path) {
    unknownRoles.add(path);
  }

  /** The next {@code n} calls answer 500. */
  public synchronized void failNext(int n) {
    failNext = n;
  }

  /** Every token issued so far expires now (later calls with one get 403). */
  public synchronized void expireTokens() {
    Instant now = clock.instant();
    tokens.replaceAll((id, t) -> t.expiringAt(now));
  }

  // ---- inspection ----

  /** Every lease issued, in order, with its state now. */
  public synchronized List<LeaseEntry> leases() {
    Instant now = clock.instant();
    List<LeaseEntry> out = new ArrayList<>();
    for (LeaseRecord l : leases.values()) {
      out.add(new LeaseEntry(l.id(), l.path(), state(l, now), l.issuedAt(), l.expiresAt()));
    }
    return List.copyOf(out);
  }

  /**
   * The last request lines ({@code "GET /v1/aws/creds/x"}), oldest first: no bodies, no headers.
   */
  public synchronized List<String> requests() {
    return List.copyOf(requestLog);
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      server.close();
    }
  }

  // ---- dispatch ----

  private synchronized MockResponse dispatch(RecordedRequest request) {
    HttpUrl url = request.getUrl();
    String method = request.getMethod();
    String full = url.encodedPath();
    requestLog.addLast(
        method + " " + full + (url.encodedQuery() == null ? "" : "?" + url.encodedQuery()));
    while (requestLog.size() > MAX_REQUEST_LOG) {
      requestLog.removeFirst();
    }
    if (!full.startsWith("/v1/")) {
      return error(404, "no handler for route \"" + full + "\"");
    }
    String path = trimSlash(full.substring(4));
    boolean list = "LIST".equals(method) || "true".equals(url.queryParameter("list"));
    if (path.equals("sys/seal-status")) {
      return sealStatus();
    }
    if (sealed) {
      return error(503, "Vault is sealed");
    }
    if (failNext > 0) {
      failNext--;
      return error(500, "1 error occurred:\n\t* internal error\n\n");
    }
    if (path.startsWith("auth/") && path.endsWith("/login")) {
      return login(path.substring(5, path.length() - 6), body(request));
    }
    Token token = validToken(request.getHeaders().get("X-Vault-Token"));
    if (token == null || isDenied(path)) {
      return error(403, "1 error occurred:\n\t* permission denied\n\n");
    }
    if (path.equals("auth/token/lookup-self")) {
      return lookupSelf(token);
    }
    if (path.equals("auth/token/renew-self")) {
      return renewSelf(token, body(request));
    }
    if (path.equals("sys/leases/revoke") || path.startsWith("sys/leases/revoke/")) {
      String id =
          path.equals("sys/leases/revoke")
              ? text(body(request), "lease_id")
              : path.substring("sys/leases/revoke/".length());
      return revoke(id);
    }
    if (path.equals("sys/leases/lookup")) {
      return lookupLease(text(body(request), "lease_id"));
    }
    String kvMount = kvMountOf(path);
    if (kvMount != null) {
      return kvMounts.get(kvMount) == 1
          ? kv1(kvMount, path.substring(kvMount.length() + 1), method, list, request)
          : kv2(kvMount, path.substring(kvMount.length() + 1), method, list, request);
    }
    String[] parts = path.split("/");
    if (parts.length == 3 && parts[1].equals("creds") && engines.containsKey(parts[0])) {
      if (!(method.equals("GET") || method.equals("POST") || method.equals("PUT"))) {
        return error(405, "unsupported operation");
      }
      if (kubernetesEngines.contains(parts[0])) {
        if (method.equals("GET")) {
          return error(405, "unsupported operation");
        }
        String namespace = text(body(request), "kubernetes_namespace");
        if (namespace == null || namespace.isEmpty()) {
          return error(400, "'kubernetes_namespace' is required");
        }
        return creds(parts[0], parts[2], path, ttlParam(request, url), namespace);
      }
      return creds(parts[0], parts[2], path, ttlParam(request, url), null);
    }
    return error(404, "no handler for route \"" + path + "\". route entry not found.");
  }

  private MockResponse login(String mount, JsonNode body) {
    if (kubernetesRoles.containsKey(mount)) {
      String role = text(body, "role");
      String jwt = text(body, "jwt");
      if (role == null || role.isEmpty()) {
        return error(400, "missing role");
      }
      if (jwt == null || jwt.isEmpty()) {
        return error(400, "missing jwt");
      }
      if (!kubernetesRoles.get(mount).contains(role)) {
        return error(400, "invalid role name \"" + role + "\"");
      }
      return authAnswer(newToken(loginTtl, true, "kubernetes-" + role), null);
    }
    if (appRoles.containsKey(mount)) {
      String roleId = text(body, "role_id");
      String secretId = text(body, "secret_id");
      String expected = roleId == null ? null : appRoles.get(mount).get(roleId);
      if (expected == null) {
        return error(400, "invalid role ID");
      }
      if (!expected.equals(secretId)) {
        return error(400, "invalid secret id");
      }
      return authAnswer(newToken(loginTtl, true, "approle"), null);
    }
    return error(404, "no handler for route \"auth/" + mount + "/login\". route entry not found.");
  }

  private MockResponse lookupSelf(Token t) {
    Instant now = clock.instant();
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("accessor", t.accessor());
    data.put("creation_time", t.issuedAt().getEpochSecond());
    data.put("creation_ttl", t.ttl().toSeconds());
    data.put("display_name", t.displayName());
    data.put("expire_time", t.ttl().isZero() ? null : t.expiresAt().toString());
    data.put("explicit_max_ttl", 0);
    data.put("id", t.id());
    data.put("issue_time", t.issuedAt().toString());
    data.put("meta", null);
    data.put("num_uses", 0);
    data.put("orphan", true);
    data.put("path", "auth/token/create");
    data.put("policies", List.of("default", "ephemera"));
    data.put("renewable", t.renewable());
    data.put(
        "ttl",
        t.ttl().isZero() ? 0 : Math.max(0, Duration.between(now, t.expiresAt()).toSeconds()));
    data.put("type", "service");
    return respond(200, envelope("", false, 0, data, null));
  }

  private MockResponse renewSelf(Token t, JsonNode body) {
    if (!t.renewable()) {
      return error(400, "lease is not renewable");
    }
    Duration ttl = t.ttl();
    JsonNode inc = body == null ? null : body.get("increment");
    if (inc != null && inc.canConvertToLong() && inc.asLong() > 0) {
      ttl = Duration.ofSeconds(Math.min(inc.asLong(), t.ttl().toSeconds()));
    }
    Token renewed =
        new Token(t.id(), t.accessor(), t.displayName(), clock.instant(), ttl, true, null);
    tokens.put(t.id(), renewed);
    return authAnswer(renewed, null);
  }

  private MockResponse authAnswer(Token t, Object data) {
    Map<String, Object> auth = new LinkedHashMap<>();
    auth.put("client_token", t.id());
    auth.put("accessor", t.accessor());
    auth.put("policies", List.of("default", "ephemera"));
    auth.put("token_policies", List.of("default", "ephemera"));
    auth.put("metadata", Map.of("role", t.displayName()));
    auth.put("lease_duration", t.ttl().toSeconds());
    auth.put("renewable", t.renewable());
    auth.put("entity_id", "");
    auth.put("token_type", "service");
    auth.put("orphan", true);
    return respond(200, envelope("", false, 0, data, auth));
  }

  private MockResponse creds(
      String mount, String role, String path, Duration requested, String kubernetesNamespace) {
    Engine engine = engines.get(mount);
    if (unknownRoles.contains(path)) {
      return error(400, engine.aws() ? "Role \"" + role + "\" not found" : "unknown role: " + role);
    }
    Duration ttl = engine.roles().get(role);
    if (ttl == null) {
      ttl = engine.anyRoleTtl();
    }
    if (ttl == null) {
      return error(400, engine.aws() ? "Role \"" + role + "\" not found" : "unknown role: " + role);
    }
    if (requested != null && requested.compareTo(ttl) < 0) {
      ttl = requested;
    }
    Map<String, Object> data = new LinkedHashMap<>();
    boolean renewable = true;
    if (kubernetesNamespace != null) {
      // The engine's documented answer; its tokens cannot be renewed.
      data.put("service_account_name", "v-token-" + role + "-" + hex(4));
      data.put("service_account_namespace", kubernetesNamespace);
      data.put("service_account_token", "eyJhbGciOiJSUzI1NiJ9." + MARKER + "-" + hex(24));
      renewable = false;
    } else if (engine.aws()) {
      data.put("access_key", "ASIA" + MARKER + "-" + hex(6));
      data.put("secret_key", MARKER + "-" + hex(20));
      data.put("security_token", MARKER + "-session-" + hex(24));
      data.put("arn", "arn:aws:sts::123456789012:assumed-role/" + role + "/vault-" + hex(4));
    } else {
      data.put("username", MARKER + "-user-" + hex(4));
      data.put("password", MARKER + "-" + hex(16));
    }
    String id = path + "/" + hex(12);
    Instant now = clock.instant();
    leases.put(id, new LeaseRecord(id, path, now, now.plus(ttl), false));
    log.info("Sandbox Vault issued lease {} for {} ({})", id, path, ttl);
    return respond(200, envelope(id, renewable, ttl.toSeconds(), data, null));
  }

  private MockResponse revoke(String id) {
    if (id == null || id.isEmpty()) {
      return error(400, "lease_id must be specified");
    }
    LeaseRecord l = leases.get(id);
    if (l != null && !l.revoked()) {
      leases.put(id, new LeaseRecord(l.id(), l.path(), l.issuedAt(), l.expiresAt(), true));
      log.info("Sandbox Vault revoked lease {}", id);
    }
    // Vault answers an unknown, expired or revoked lease like any other: nothing left to revoke.
    return new MockResponse.Builder().code(204).build();
  }

  private MockResponse lookupLease(String id) {
    LeaseRecord l = id == null ? null : leases.get(id);
    Instant now = clock.instant();
    if (l == null || !STATE_ACTIVE.equals(state(l, now))) {
      return error(400, "invalid lease");
    }
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("id", l.id());
    data.put("issue_time", l.issuedAt().toString());
    data.put("expire_time", l.expiresAt().toString());
    data.put("last_renewal", null);
    data.put("renewable", true);
    data.put("ttl", Math.max(0, Duration.between(now, l.expiresAt()).toSeconds()));
    return respond(200, envelope("", false, 0, data, null));
  }

  private MockResponse sealStatus() {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("type", "shamir");
    body.put("initialized", true);
    body.put("sealed", sealed);
    body.put("t", 1);
    body.put("n", 1);
    body.put("progress", 0);
    body.put("nonce", "");
    body.put("version", "1.17.0+sandbox");
    body.put("build_date", "2024-06-01T00:00:00Z");
    body.put("migration", false);
    body.put("recovery_seal", false);
    body.put("storage_type", "inmem");
    if (!sealed) {
      body.put("cluster_name", "ephemera-sandbox");
      body.put("cluster_id", "00000000-0000-0000-0000-000000000000");
    }
    return respond(200, body);
  }

  // ---- KV ----

  private MockResponse kv1(
      String mount, String key, String method, boolean list, RecordedRequest request) {
    TreeMap<String, Map<String, String>> store = kv.computeIfAbsent(mount, m -> new TreeMap<>());
    if (list) {
      return listKeys(store, key);
    }
    switch (method) {
      case "GET" -> {
        Map<String, String> data = store.get(key);
        return data == null
            ? error(404)
            : respond(200, envelope("", false, Duration.ofHours(768).toSeconds(), data, null));
      }
      case "POST", "PUT" -> {
        store.put(key, strings(body(request)));
        return new MockResponse.Builder().code(204).build();
      }
      case "DELETE" -> {
        store.remove(key);
        return new MockResponse.Builder().code(204).build();
      }
      default -> {
        return error(405, "unsupported operation");
      }
    }
  }

  private MockResponse kv2(
      String mount, String rest, String method, boolean list, RecordedRequest request) {
    TreeMap<String, Map<String, String>> store = kv.computeIfAbsent(mount, m -> new TreeMap<>());
    if (rest.startsWith("metadata/") || rest.equals("metadata")) {
      String key = rest.equals("metadata") ? "" : rest.substring("metadata/".length());
      if (list) {
        return listKeys(store, key);
      }
      if (method.equals("DELETE")) {
        store.remove(key);
        return new MockResponse.Builder().code(204).build();
      }
      if (method.equals("GET")) {
        return store.containsKey(key)
            ? respond(200, envelope("", false, 0, Map.of("current_version", 1), null))
            : error(404);
      }
      return error(405, "unsupported operation");
    }
    if (!rest.startsWith("data/")) {
      // What a KV v1 style path on a v2 mount gets from Vault.
      return error(
          404,
          "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate"
              + " API endpoints to use. If using the Vault CLI, use 'vault kv get' for this"
              + " operation.");
    }
    String key = rest.substring("data/".length());
    switch (method) {
      case "GET" -> {
        Map<String, String> data = store.get(key);
        if (data == null) {
          return error(404);
        }
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("data", data);
        inner.put("metadata", metadata());
        return respond(200, envelope("", false, 0, inner, null));
      }
      case "POST", "PUT" -> {
        JsonNode body = body(request);
        JsonNode data = body == null ? null : body.get("data");
        if (data == null || !data.isObject()) {
          return error(400, "no data provided");
        }
        store.put(key, strings(data));
        return respond(200, envelope("", false, 0, metadata(), null));
      }
      case "DELETE" -> {
        store.remove(key);
        return new MockResponse.Builder().code(204).build();
      }
      default -> {
        return error(405, "unsupported operation");
      }
    }
  }

  private Map<String, Object> metadata() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("created_time", clock.instant().toString());
    m.put("custom_metadata", null);
    m.put("deletion_time", "");
    m.put("destroyed", false);
    m.put("version", 1);
    return m;
  }

  private MockResponse listKeys(TreeMap<String, Map<String, String>> store, String folder) {
    String prefix = folder.isEmpty() ? "" : trimSlash(folder) + "/";
    Set<String> keys = new TreeSet<>();
    for (String k : store.keySet()) {
      if (k.startsWith(prefix)) {
        String rest = k.substring(prefix.length());
        int slash = rest.indexOf('/');
        keys.add(slash < 0 ? rest : rest.substring(0, slash + 1));
      }
    }
    if (keys.isEmpty()) {
      return error(404);
    }
    return respond(200, envelope("", false, 0, Map.of("keys", List.copyOf(keys)), null));
  }

  // ---- helpers ----

  private Token newToken(Duration ttl, boolean renewable, String displayName) {
    Token t =
        new Token(
            "hvs." + MARKER + "-" + hex(12),
            hex(12),
            displayName,
            clock.instant(),
            ttl,
            renewable,
            null);
    tokens.put(t.id(), t);
    return t;
  }

  private Token validToken(String id) {
    Token t = id == null ? null : tokens.get(id);
    if (t == null) {
      return null;
    }
    Instant now = clock.instant();
    if (t.expiredAt() != null && !now.isBefore(t.expiredAt())) {
      return null;
    }
    if (!t.ttl().isZero() && !now.isBefore(t.expiresAt())) {
      return null;
    }
    return t;
  }

  private boolean isDenied(String path) {
    for (String d : denied) {
      if (path.startsWith(d)) {
        return true;
      }
    }
    return false;
  }

  private String kvMountOf(String path) {
    String best = null;
    for (String m : kvMounts.keySet()) {
      if (path.startsWith(m + "/") && (best == null || m.length() > best.length())) {
        best = m;
      }
    }
    return best;
  }

  private static String state(LeaseRecord l, Instant now) {
    if (l.revoked()) {
      return STATE_REVOKED;
    }
    return now.isBefore(l.expiresAt()) ? STATE_ACTIVE : STATE_EXPIRED;
  }

  private Duration ttlParam(RecordedRequest request, HttpUrl url) {
    String v = url.queryParameter("ttl");
    if (v == null) {
      v = text(body(request), "ttl");
    }
    if (v == null || v.isEmpty()) {
      return null;
    }
    String s = v.endsWith("s") ? v.substring(0, v.length() - 1) : v;
    try {
      return Duration.ofSeconds(Long.parseLong(s));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private JsonNode body(RecordedRequest request) {
    if (request.getBody() == null || request.getBody().size() == 0) {
      return null;
    }
    return json.readTree(request.getBody().utf8());
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node == null ? null : node.get(field);
    return v == null || v.isNull() ? null : v.asString();
  }

  private static Map<String, String> strings(JsonNode node) {
    Map<String, String> out = new TreeMap<>();
    if (node != null && node.isObject()) {
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        if (!e.getValue().isNull()) {
          out.put(
              e.getKey(),
              e.getValue().isString() ? e.getValue().asString() : e.getValue().toString());
        }
      }
    }
    return Map.copyOf(out);
  }

  private Map<String, Object> envelope(
      String leaseId, boolean renewable, long leaseDuration, Object data, Object auth) {
    Map<String, Object> b = new LinkedHashMap<>();
    b.put("request_id", UUID.randomUUID().toString());
    b.put("lease_id", leaseId);
    b.put("renewable", renewable);
    b.put("lease_duration", leaseDuration);
    b.put("data", data);
    b.put("wrap_info", null);
    b.put("warnings", null);
    b.put("auth", auth);
    b.put("mount_type", "");
    return b;
  }

  private MockResponse error(int code, String... errors) {
    return respond(code, Map.of("errors", List.of(errors)));
  }

  private MockResponse respond(int code, Object body) {
    // Exactly "application/json": the driver's login calls compare the header verbatim.
    return new MockResponse.Builder()
        .code(code)
        .setHeader("Content-Type", "application/json")
        .body(json.writeValueAsString(body))
        .build();
  }

  private String hex(int bytes) {
    byte[] b = new byte[bytes];
    random.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  private static String trimSlash(String s) {
    String t = s;
    while (t.endsWith("/")) {
      t = t.substring(0, t.length() - 1);
    }
    return t;
  }

  /** See {@code SandboxGitLab}: a long-running sandbox must not keep every request. */
  private void forgetRequests() {
    try {
      while (server.takeRequest(0, TimeUnit.MILLISECONDS) != null) {
        // drained
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A lease as {@code /sandbox/inventory} lists it under {@code leases}. */
  public record LeaseEntry(
      String leaseId, String path, String state, Instant issuedAt, Instant expiresAt) {}

  private record LeaseRecord(
      String id, String path, Instant issuedAt, Instant expiresAt, boolean revoked) {}

  private record Engine(boolean aws, Map<String, Duration> roles, Duration anyRoleTtl) {}

  /**
   * @param expiredAt set by {@link #expireTokens()}: the token is dead from then on
   */
  private record Token(
      String id,
      String accessor,
      String displayName,
      Instant issuedAt,
      Duration ttl,
      boolean renewable,
      Instant expiredAt) {
    Instant expiresAt() {
      return issuedAt.plus(ttl);
    }

    Token expiringAt(Instant when) {
      return new Token(id, accessor, displayName, issuedAt, ttl, renewable, when);
    }

    @Override
    public String toString() {
      return "Token[" + displayName + "]";
    }
  }
}
