package io.ephemera.activity.vault;

import io.ephemera.activity.credentials.CredentialPurpose;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code ephemera.vault.*}: where Vault is, how Ephemera logs in, and where each credential of a
 * deploy comes from.
 *
 * <p><b>Authentication</b>, in order of preference when {@code auth.method} is not set: {@code
 * kubernetes} (a role is set and the service-account token file exists, i.e. in cluster), then
 * {@code approle} (a role-id is set), then {@code token}. Setting {@code auth.method} picks one
 * explicitly.
 *
 * <p><b>Sources</b>, per purpose, each optional (an unset source is simply not issued): {@code
 * build.registry-push}, {@code build.build-cache}, {@code build.source-read}, {@code
 * deploy.registry-pull}, {@code deploy.kubernetes}. A path may hold {@code {projectId}} and {@code
 * {projectPath}}; {@code projects.<project path>} replaces single sources for one project.
 *
 * <p>{@code deploy.kubernetes} names a role of Vault's Kubernetes secrets engine ({@code
 * <mount>/creds/<role>}): each deploy then gets a service-account token for its review namespace,
 * and writes the review app's objects with it instead of with the worker's own credentials.
 *
 * @param address Vault's address, e.g. {@code https://vault.example.com:8200}; unset means not
 *     configured: the {@code local} profile then runs the sandbox, any other profile fails to start
 * @param namespace Vault Enterprise namespace ({@code X-Vault-Namespace}); unset for none
 * @param requestTimeout connect and read timeout of one call to Vault
 * @param leaseIndex the KV v2 location of Ephemera's own lease index
 */
@ConfigurationProperties("ephemera.vault")
public record VaultProperties(
    String address,
    String namespace,
    @DefaultValue Auth auth,
    @DefaultValue Tls tls,
    @DefaultValue("10s") Duration requestTimeout,
    @DefaultValue BuildSources build,
    @DefaultValue DeploySources deploy,
    Map<String, ProjectSources> projects,
    @DefaultValue LeaseIndexLocation leaseIndex) {

  public static final String REGISTRY_PUSH = "registry-push";
  public static final String BUILD_CACHE = "build-cache";
  public static final String SOURCE_READ = "source-read";
  public static final String REGISTRY_PULL = "registry-pull";

  /** The deploy's Kubernetes token (Vault's Kubernetes secrets engine). */
  public static final String KUBERNETES = "kubernetes";

  /** The shortest token the Kubernetes TokenRequest API issues (its expirationSeconds minimum). */
  static final Duration MIN_KUBERNETES_TTL = Duration.ofMinutes(10);

  public VaultProperties {
    address = blankToNull(address);
    namespace = blankToNull(namespace);
    auth = auth == null ? new Auth(null, null, null, null) : auth;
    tls = tls == null ? new Tls(null) : tls;
    requestTimeout = requestTimeout == null ? Duration.ofSeconds(10) : requestTimeout;
    build = build == null ? new BuildSources(null, null, null) : build;
    deploy = deploy == null ? new DeploySources(null, null) : deploy;
    projects = projects == null ? Map.of() : Map.copyOf(projects);
    leaseIndex = leaseIndex == null ? new LeaseIndexLocation(null, null) : leaseIndex;
    if (requestTimeout.isNegative() || requestTimeout.isZero()) {
      throw new IllegalArgumentException("ephemera.vault.request-timeout must be positive");
    }
    if (address != null) {
      address = normaliseAddress(address);
    }
    build.validate("ephemera.vault.build");
    deploy.validate("ephemera.vault.deploy");
    projects.forEach(
        (project, sources) -> {
          if (sources != null) {
            sources.build().validate("ephemera.vault.projects[" + project + "].build");
            sources.deploy().validate("ephemera.vault.projects[" + project + "].deploy");
          }
        });
  }

  /** Whether a real Vault is configured; without one only the local profile may start. */
  public boolean configured() {
    return address != null;
  }

  /** Whether any credential source is configured, globally or for a project. */
  public boolean hasSources() {
    boolean global =
        set(build.registryPush())
            || set(build.buildCache())
            || set(build.sourceRead())
            || set(deploy.registryPull())
            || set(deploy.kubernetes());
    return global || !projects.isEmpty();
  }

  /**
   * Whether every deploy gets a Kubernetes token: the source is set globally, so no project can go
   * without one (an override only replaces the path).
   */
  public boolean kubernetesTokenForEveryProject() {
    return set(deploy.kubernetes());
  }

  /** Whether any deploy gets a Kubernetes token, globally or for some project. */
  public boolean kubernetesTokenForAnyProject() {
    return kubernetesTokenForEveryProject()
        || projects.values().stream().anyMatch(p -> p != null && set(p.deploy().kubernetes()));
  }

  private static boolean set(Source s) {
    return s != null && s.path() != null;
  }

  /** These settings pointing at {@code address} with {@code auth}, e.g. for the sandbox. */
  public VaultProperties withEndpoint(String address, Auth auth) {
    return new VaultProperties(
        address, namespace, auth, tls, requestTimeout, build, deploy, projects, leaseIndex);
  }

  /** These settings with other sources (and no per-project overrides). */
  public VaultProperties withSources(BuildSources build, DeploySources deploy) {
    return new VaultProperties(
        address, namespace, auth, tls, requestTimeout, build, deploy, Map.of(), leaseIndex);
  }

  /**
   * The sources to issue for {@code purpose} of a project: per-project overrides first, then the
   * global ones, with placeholders filled. Unset sources are left out.
   */
  public List<SourceSpec> sources(CredentialPurpose purpose, long projectId, String projectPath) {
    ProjectSources project = projectPath == null ? null : projects.get(projectPath);
    List<SourceSpec> specs = new ArrayList<>();
    if (purpose == CredentialPurpose.BUILD) {
      BuildSources own = project == null ? null : project.build();
      add(
          specs,
          REGISTRY_PUSH,
          pick(own == null ? null : own.registryPush(), build.registryPush()),
          Engine.KV2,
          projectId,
          projectPath);
      add(
          specs,
          BUILD_CACHE,
          pick(own == null ? null : own.buildCache(), build.buildCache()),
          Engine.DYNAMIC,
          projectId,
          projectPath);
      add(
          specs,
          SOURCE_READ,
          pick(own == null ? null : own.sourceRead(), build.sourceRead()),
          Engine.KV2,
          projectId,
          projectPath);
    } else {
      DeploySources own = project == null ? null : project.deploy();
      add(
          specs,
          REGISTRY_PULL,
          pick(own == null ? null : own.registryPull(), deploy.registryPull()),
          Engine.KV2,
          projectId,
          projectPath);
      add(
          specs,
          KUBERNETES,
          pick(own == null ? null : own.kubernetes(), deploy.kubernetes()),
          Engine.KUBERNETES,
          projectId,
          projectPath);
    }
    return List.copyOf(specs);
  }

  private static Source pick(Source override, Source global) {
    return override != null && override.path() != null ? override : global;
  }

  private static void add(
      List<SourceSpec> specs,
      String kind,
      Source source,
      Engine defaultEngine,
      long projectId,
      String projectPath) {
    if (source == null || source.path() == null) {
      return;
    }
    String path =
        source
            .path()
            .replace("{projectId}", Long.toString(projectId))
            .replace("{projectPath}", projectPath == null ? "" : projectPath);
    checkPath(kind, path);
    Engine engine = source.engine() == null ? defaultEngine : source.engine();
    String mount = null;
    if (engine == Engine.KV2) {
      mount = source.mount() != null ? source.mount() : path.substring(0, path.indexOf('/'));
      if (!path.startsWith(mount + "/") || path.length() == mount.length() + 1) {
        throw new IllegalArgumentException(
            "the " + kind + " path " + path + " does not lie under its KV v2 mount " + mount);
      }
    } else if (engine == Engine.KUBERNETES) {
      mount = kubernetesMount(kind, path, source.mount());
    }
    specs.add(new SourceSpec(kind, path, engine, mount, source.ttl()));
  }

  /**
   * The mount of a Kubernetes secrets engine path, which must be {@code <mount>/creds/<role>}: the
   * given one, or everything before {@code /creds/}.
   */
  static String kubernetesMount(String kind, String path, String mount) {
    int creds = path.lastIndexOf("/creds/");
    String role = creds < 0 ? "" : path.substring(creds + "/creds/".length());
    if (creds <= 0 || role.isEmpty() || role.contains("/")) {
      throw new IllegalArgumentException(
          "the "
              + kind
              + " path must name a role of Vault's Kubernetes secrets engine as"
              + " <mount>/creds/<role>, e.g. kubernetes/creds/review-deployer; was "
              + path);
    }
    String derived = path.substring(0, creds);
    if (mount != null && !mount.equals(derived)) {
      throw new IllegalArgumentException(
          "the "
              + kind
              + " path "
              + path
              + " is not <mount>/creds/<role> under its mount "
              + mount);
    }
    return derived;
  }

  /** A filled-in path must still be one plain Vault path: no empty or dot segments. */
  private static void checkPath(String kind, String path) {
    if (path.startsWith("/") || path.endsWith("/") || !path.contains("/")) {
      throw new IllegalArgumentException(
          "the "
              + kind
              + " path must be <mount>/<path> without leading or trailing '/', was "
              + path);
    }
    for (String segment : path.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        throw new IllegalArgumentException("the " + kind + " path has an invalid segment: " + path);
      }
    }
    if (path.contains("?") || path.contains("#")) {
      throw new IllegalArgumentException("the " + kind + " path must hold no query: " + path);
    }
  }

  private static String normaliseAddress(String address) {
    URI uri;
    try {
      uri = URI.create(address);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("ephemera.vault.address is not a URL: " + address, e);
    }
    if (uri.getRawUserInfo() != null) {
      throw new IllegalArgumentException("ephemera.vault.address must not hold credentials");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!(scheme.equals("https") || scheme.equals("http")) || uri.getHost() == null) {
      throw new IllegalArgumentException(
          "ephemera.vault.address must be an http(s) URL such as https://vault.example.com:8200,"
              + " was "
              + address);
    }
    String s = address;
    while (s.endsWith("/")) {
      s = s.substring(0, s.length() - 1);
    }
    if (s.endsWith("/v1")) {
      // The driver appends /v1 itself.
      s = s.substring(0, s.length() - 3);
    }
    return s;
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  /** How Ephemera logs in to Vault. */
  public enum AuthMethod {
    KUBERNETES,
    APPROLE,
    TOKEN
  }

  /** What a source path is. */
  public enum Engine {
    /** KV version 1: read as is, no lease. */
    KV1,
    /** KV version 2: read through {@code <mount>/data/...}, no lease. */
    KV2,
    /** A dynamic secrets engine (AWS, database, ...): the answer carries a lease to revoke. */
    DYNAMIC,
    /**
     * Vault's Kubernetes secrets engine: a write to {@code <mount>/creds/<role>} naming the review
     * namespace; the answer carries a service-account token and its lease.
     */
    KUBERNETES
  }

  /**
   * @param method explicit choice; unset picks by the preference order above
   * @param token a Vault token (method {@code token}), never logged
   */
  public record Auth(
      AuthMethod method,
      @DefaultValue Kubernetes kubernetes,
      @DefaultValue AppRole approle,
      String token) {
    public Auth {
      kubernetes = kubernetes == null ? new Kubernetes(null, null, null) : kubernetes;
      approle = approle == null ? new AppRole(null, null, null, null, null) : approle;
      token = blankToNull(token);
    }

    public static Auth approle(String roleId, String secretId) {
      return new Auth(
          AuthMethod.APPROLE, null, new AppRole(roleId, secretId, null, null, null), null);
    }

    public static Auth token(String token) {
      return new Auth(AuthMethod.TOKEN, null, null, token);
    }

    public static Auth kubernetes(String role, String tokenPath) {
      return new Auth(AuthMethod.KUBERNETES, new Kubernetes(role, null, tokenPath), null, null);
    }

    /**
     * The method to use: the explicit one, else kubernetes in cluster, else approle, else token.
     *
     * @throws IllegalArgumentException when nothing usable is configured, naming the properties
     */
    public AuthMethod resolve() {
      AuthMethod m = method;
      if (m == null) {
        if (kubernetes.role() != null && Files.isReadable(Path.of(kubernetes.tokenPath()))) {
          m = AuthMethod.KUBERNETES;
        } else if (approle.roleId() != null) {
          m = AuthMethod.APPROLE;
        } else if (token != null) {
          m = AuthMethod.TOKEN;
        } else if (kubernetes.role() != null) {
          m = AuthMethod.KUBERNETES;
        } else {
          throw new IllegalArgumentException(
              "no Vault login is configured: set ephemera.vault.auth.kubernetes.role (in cluster),"
                  + " ephemera.vault.auth.approle.role-id and secret-id (or secret-id-file), or"
                  + " ephemera.vault.auth.token");
        }
      }
      switch (m) {
        case KUBERNETES -> {
          if (kubernetes.role() == null) {
            throw new IllegalArgumentException(
                "ephemera.vault.auth.kubernetes.role is required for Kubernetes auth");
          }
        }
        case APPROLE -> {
          if (approle.roleId() == null
              || (approle.secretId() == null && approle.secretIdFile() == null)) {
            throw new IllegalArgumentException(
                "AppRole auth needs ephemera.vault.auth.approle.role-id and secret-id or"
                    + " secret-id-file");
          }
        }
        case TOKEN -> {
          if (token == null) {
            throw new IllegalArgumentException(
                "ephemera.vault.auth.token is required for token auth");
          }
        }
      }
      return m;
    }

    @Override
    public String toString() {
      return "Auth[method="
          + method
          + ", kubernetes="
          + kubernetes
          + ", approle="
          + approle
          + ", token="
          + (token == null ? "(none)" : "(set)")
          + "]";
    }
  }

  /**
   * Kubernetes auth: logs in with the pod's service-account token, re-read at every login since
   * projected tokens rotate.
   */
  public record Kubernetes(
      String role,
      @DefaultValue("kubernetes") String mount,
      @DefaultValue("/var/run/secrets/kubernetes.io/serviceaccount/token") String tokenPath) {
    public Kubernetes {
      role = blankToNull(role);
      mount = mount == null || mount.isBlank() ? "kubernetes" : trimSlashes(mount);
      tokenPath =
          tokenPath == null || tokenPath.isBlank()
              ? "/var/run/secrets/kubernetes.io/serviceaccount/token"
              : tokenPath.trim();
    }
  }

  /**
   * AppRole auth.
   *
   * @param secretId never logged; prefer {@code secretIdFile}, re-read at every login
   * @param roleName the role's name, only to name it in error messages (a role-id is opaque)
   */
  public record AppRole(
      String roleId,
      String secretId,
      String secretIdFile,
      @DefaultValue("approle") String mount,
      String roleName) {
    public AppRole {
      roleId = blankToNull(roleId);
      secretId = blankToNull(secretId);
      secretIdFile = blankToNull(secretIdFile);
      mount = mount == null || mount.isBlank() ? "approle" : trimSlashes(mount);
      roleName = blankToNull(roleName);
    }

    @Override
    public String toString() {
      return "AppRole[roleName="
          + roleName
          + ", mount="
          + mount
          + ", roleId="
          + (roleId == null ? "(none)" : "(set)")
          + ", secretId="
          + (secretId == null ? "(none)" : "(set)")
          + ", secretIdFile="
          + secretIdFile
          + "]";
    }
  }

  /**
   * @param caCert PEM file of the CA(s) Vault's certificate is checked against, instead of the
   *     JDK's trust store (as {@code VAULT_CACERT}); there is deliberately no switch to skip
   *     verification
   */
  public record Tls(String caCert) {
    public Tls {
      caCert = blankToNull(caCert);
    }
  }

  /**
   * One credential source.
   *
   * @param path Vault path, e.g. {@code secret/ci/registry} or {@code aws/creds/review-cache}
   * @param engine {@code kv1}, {@code kv2} or {@code dynamic}; defaults to {@code dynamic} for the
   *     build cache, {@code kubernetes} for the deploy's Kubernetes token (the only engine it
   *     takes) and {@code kv2} for the others
   * @param mount the KV v2 mount when it has more than one segment (default: the first segment);
   *     for the Kubernetes token, the engine's mount (default: what precedes {@code /creds/})
   * @param ttl the lease TTL asked of a dynamic engine (e.g. AWS STS credentials); unset takes the
   *     role's default, which should be the shortest that covers one build (for the Kubernetes
   *     token: one deploy's workload and rollout steps; at least 10 minutes)
   */
  public record Source(String path, Engine engine, String mount, Duration ttl) {
    public Source {
      path = path == null || path.isBlank() ? null : trimSlashes(path);
      mount = mount == null || mount.isBlank() ? null : trimSlashes(mount);
    }

    void validate(String prefix) {
      if (path == null) {
        return;
      }
      if (ttl != null && (ttl.isNegative() || ttl.isZero())) {
        throw new IllegalArgumentException(prefix + ".ttl must be positive");
      }
      if (ttl != null && (engine == Engine.KV1 || engine == Engine.KV2)) {
        throw new IllegalArgumentException(
            prefix + ".ttl is set on a KV source, which has no lease; remove it");
      }
      if (mount != null && engine != Engine.KV2 && engine != Engine.KUBERNETES && engine != null) {
        throw new IllegalArgumentException(
            prefix + ".mount only applies to engines kv2 and kubernetes");
      }
      if (engine == Engine.KUBERNETES) {
        throw new IllegalArgumentException(
            prefix
                + ".engine kubernetes only applies to ephemera.vault.deploy.kubernetes, the"
                + " deploy's Kubernetes token");
      }
    }

    /** The deploy's Kubernetes token: Vault's Kubernetes secrets engine, nothing else. */
    void validateKubernetes(String prefix) {
      if (path == null) {
        return;
      }
      if (engine != null && engine != Engine.KUBERNETES) {
        throw new IllegalArgumentException(
            prefix
                + ".engine must be kubernetes (or unset): the deploy's Kubernetes token comes from"
                + " Vault's Kubernetes secrets engine, was "
                + engine.name().toLowerCase(Locale.ROOT));
      }
      if (ttl != null && (ttl.isNegative() || ttl.isZero())) {
        throw new IllegalArgumentException(prefix + ".ttl must be positive");
      }
      if (ttl != null && ttl.compareTo(MIN_KUBERNETES_TTL) < 0) {
        throw new IllegalArgumentException(
            prefix
                + ".ttl must be at least 10m: Kubernetes issues no shorter service-account token,"
                + " was "
                + ttl);
      }
      if (!path.contains("{")) {
        try {
          kubernetesMount(prefix + ".path", path, mount);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(prefix + ": " + e.getMessage(), e);
        }
      }
    }
  }

  /** Build-time sources: revoked right after the build. */
  public record BuildSources(Source registryPush, Source buildCache, Source sourceRead) {
    void validate(String prefix) {
      validateOne(prefix + ".registry-push", registryPush);
      validateOne(prefix + ".build-cache", buildCache);
      validateOne(prefix + ".source-read", sourceRead);
    }
  }

  /**
   * Deploy-time sources: live as long as the environment.
   *
   * @param kubernetes a role of Vault's Kubernetes secrets engine ({@code <mount>/creds/<role>});
   *     unset, the worker writes the review app with its own credentials
   */
  public record DeploySources(Source registryPull, Source kubernetes) {
    void validate(String prefix) {
      validateOne(prefix + ".registry-pull", registryPull);
      if (kubernetes != null) {
        kubernetes.validateKubernetes(prefix + ".kubernetes");
      }
    }
  }

  /** Per-project replacements of single sources. */
  public record ProjectSources(
      @DefaultValue BuildSources build, @DefaultValue DeploySources deploy) {
    public ProjectSources {
      build = build == null ? new BuildSources(null, null, null) : build;
      deploy = deploy == null ? new DeploySources(null, null) : deploy;
    }
  }

  /**
   * Where the lease index lives: a KV v2 mount and a path under it (one entry per lease below it).
   */
  public record LeaseIndexLocation(
      @DefaultValue("secret") String mount, @DefaultValue("ephemera/leases") String path) {
    public LeaseIndexLocation {
      mount = mount == null || mount.isBlank() ? "secret" : trimSlashes(mount);
      path = path == null || path.isBlank() ? "ephemera/leases" : trimSlashes(path);
    }
  }

  /** A source ready to read: placeholders filled, engine and KV v2 mount resolved. */
  public record SourceSpec(String kind, String path, Engine engine, String mount, Duration ttl) {}

  private static void validateOne(String prefix, Source source) {
    if (source != null) {
      source.validate(prefix);
    }
  }

  private static String trimSlashes(String s) {
    String t = s.trim();
    while (t.startsWith("/")) {
      t = t.substring(1);
    }
    while (t.endsWith("/")) {
      t = t.substring(0, t.length() - 1);
    }
    return t;
  }
}
