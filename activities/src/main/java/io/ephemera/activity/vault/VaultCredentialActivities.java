package io.ephemera.activity.vault;

import io.ephemera.activity.credentials.CredentialActivities;
import io.ephemera.activity.credentials.CredentialPurpose;
import io.ephemera.activity.credentials.CredentialRequest;
import io.ephemera.activity.credentials.IssuedCredentials;
import io.ephemera.activity.credentials.Lease;
import io.ephemera.activity.credentials.LeaseIndex;
import io.ephemera.activity.credentials.RevokeRequest;
import io.ephemera.activity.credentials.SecretKeys;
import io.ephemera.activity.kubernetes.DeployToken;
import io.ephemera.activity.vault.VaultProperties.Engine;
import io.ephemera.activity.vault.VaultProperties.SourceSpec;
import io.ephemera.activity.vault.VaultSession.VaultSecret;
import io.ephemera.common.FailureType;
import io.ephemera.common.Labels;
import io.ephemera.common.Names;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.temporal.failure.ApplicationFailure;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@link CredentialActivities} on Vault and Kubernetes.
 *
 * <p>{@code issue} reads every configured source of the purpose, records each lease in the {@link
 * LeaseIndex} before its value is used, and writes the values into the Secret the request names
 * (created or replaced; {@code kubernetes.io/dockerconfigjson} for DEPLOY, so it works as an
 * imagePullSecret, {@code Opaque} for BUILD), labelled managed-by, workflow-id, kind and purpose.
 * Only lease ids, paths and expiry times leave it. When any step fails, the leases it issued in
 * that attempt are revoked at once: the workflow never learns of them, so nothing else would.
 *
 * <p>With a Kubernetes token source ({@code ephemera.vault.deploy.kubernetes}), DEPLOY also asks
 * Vault's Kubernetes secrets engine for a service-account token for the Secret's namespace (the
 * review namespace, which exists by then), records its lease (kind {@code kubernetes}) like the
 * others, and writes the token into its own Secret {@link DeployToken#SECRET_NAME} there, labelled
 * like the pull Secret, from which {@link io.ephemera.activity.kubernetes.DeployTokenClients}
 * builds the client that writes the review app. Revoking the lease revokes the token.
 *
 * <p>{@code revoke} revokes each revocable lease ({@code PUT sys/leases/revoke}; an unknown,
 * expired or already revoked lease is success) and removes it from the index. It tries every lease
 * before failing with the first error, so one bad lease never keeps the others alive.
 *
 * <p>Values are never logged; lease ids and paths are. RBAC: secrets get/create/update in the
 * target namespaces; namespaces get/create (a missing namespace is created with the managed-by
 * label only, which the review-app namespace step then adopts).
 */
public final class VaultCredentialActivities implements CredentialActivities {
  private static final Logger log = LoggerFactory.getLogger(VaultCredentialActivities.class);

  /** Label on credential Secrets: {@code build} or {@code deploy}. */
  public static final String PURPOSE_LABEL = "ephemera.io/credentials";

  static final String DOCKER_CONFIG_TYPE = "kubernetes.io/dockerconfigjson";

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final VaultSession vault;
  private final LeaseIndex index;
  private final KubernetesClient kubernetes;
  private final String registryHost;
  private final Clock clock;

  /**
   * @param registryHost the registry the docker config authenticates to ({@code
   *     ephemera.review.registry})
   */
  public VaultCredentialActivities(
      VaultSession vault, LeaseIndex index, KubernetesClient kubernetes, String registryHost) {
    this(vault, index, kubernetes, registryHost, Clock.systemUTC());
  }

  VaultCredentialActivities(
      VaultSession vault,
      LeaseIndex index,
      KubernetesClient kubernetes,
      String registryHost,
      Clock clock) {
    this.vault = Objects.requireNonNull(vault, "vault");
    this.index = Objects.requireNonNull(index, "index");
    this.kubernetes = Objects.requireNonNull(kubernetes, "kubernetes");
    if (registryHost == null || registryHost.isBlank()) {
      throw new IllegalArgumentException("the registry host (ephemera.review.registry) is not set");
    }
    this.registryHost = registryHost.trim();
    this.clock = clock;
  }

  @Override
  public IssuedCredentials issue(CredentialRequest request) {
    check(request);
    List<SourceSpec> sources;
    try {
      sources =
          vault.properties().sources(request.purpose(), request.projectId(), request.projectPath());
    } catch (IllegalArgumentException e) {
      throw FailureType.VaultInvalid.failure(
          "credential sources of project " + request.projectPath() + ": " + e.getMessage());
    }
    String ns = request.secretNamespace();
    String name = request.secretName();
    ensureNamespace(ns);
    refuseForeignSecret(request);

    boolean withToken = sources.stream().anyMatch(s -> s.engine() == Engine.KUBERNETES);
    if (withToken) {
      refuseForeignSecret(request, DeployToken.SECRET_NAME);
    }
    List<Lease> leases = new ArrayList<>();
    Map<String, String> values = new LinkedHashMap<>();
    IssuedToken token = null;
    try {
      for (SourceSpec source : sources) {
        VaultSecret secret =
            source.engine() == Engine.KUBERNETES
                ? vault.kubernetesToken(source, ns)
                : vault.read(source);
        // Listed first, so a failure from here on revokes it too.
        leases.add(new Lease(secret.leaseId(), source.kind(), source.path(), secret.expiresAt()));
        if (secret.leased()) {
          // Recorded before the value is used: if this worker dies from here on, the reconciler
          // still finds the lease.
          index.record(
              new LeaseIndex.Entry(
                  secret.leaseId(),
                  source.kind(),
                  source.path(),
                  request.workflowId(),
                  clock.instant(),
                  secret.expiresAt()));
        }
        if (source.engine() == Engine.KUBERNETES) {
          token = token(source, secret);
        } else {
          map(source, secret, values);
        }
      }
      if (request.purpose() == CredentialPurpose.DEPLOY
          && !values.containsKey(SecretKeys.DOCKER_CONFIG)) {
        // No pull credential configured: the Secret still exists, so the Deployment naming it as
        // imagePullSecret starts, and pulls anonymously.
        values.put(SecretKeys.DOCKER_CONFIG, "{\"auths\":{}}");
      }
      write(request, values);
      if (token != null) {
        writeToken(request, token);
      }
    } catch (RuntimeException e) {
      revokeQuietly(request.workflowId(), leases);
      throw e;
    }
    log.info(
        "Issued {} credentials of {} into Secret {}/{}: {}",
        request.purpose(),
        request.workflowId(),
        ns,
        name,
        describe(leases));
    return new IssuedCredentials(ns, name, leases);
  }

  @Override
  public void revoke(RevokeRequest request) {
    RuntimeException first = null;
    for (Lease lease : request.leases()) {
      if (!lease.revocable()) {
        continue;
      }
      try {
        boolean revoked = vault.revokeLease(lease.leaseId());
        index.remove(lease.leaseId());
        log.info(
            "{} lease {} ({}) of {}",
            revoked ? "Revoked" : "Already gone:",
            lease.leaseId(),
            lease.path(),
            request.workflowId());
      } catch (RuntimeException e) {
        log.warn(
            "Revoking lease {} ({}) of {} failed: {}",
            lease.leaseId(),
            lease.path(),
            request.workflowId(),
            e.getMessage());
        if (first == null) {
          first = e;
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  // ---- values → Secret keys ----

  private void map(SourceSpec source, VaultSecret secret, Map<String, String> out) {
    Map<String, String> d = secret.data();
    switch (source.kind()) {
      case VaultProperties.REGISTRY_PUSH, VaultProperties.REGISTRY_PULL -> {
        String user = first(d, "username", "user");
        String password = first(d, "password", "token");
        if (user == null || password == null) {
          throw VaultErrors.incomplete(
              source.path(), source.kind(), missing(user, "username", password, "password"));
        }
        out.put(SecretKeys.DOCKER_CONFIG, dockerConfig(user, password));
      }
      case VaultProperties.BUILD_CACHE -> {
        String accessKey = d.get("access_key");
        String secretKey = d.get("secret_key");
        if (accessKey == null || secretKey == null) {
          throw VaultErrors.incomplete(
              source.path(),
              source.kind(),
              missing(accessKey, "access_key", secretKey, "secret_key"));
        }
        out.put(SecretKeys.AWS_ACCESS_KEY_ID, accessKey);
        out.put(SecretKeys.AWS_SECRET_ACCESS_KEY, secretKey);
        String session = d.get("security_token");
        if (session != null && !session.isEmpty()) {
          out.put(SecretKeys.AWS_SESSION_TOKEN, session);
        }
      }
      case VaultProperties.SOURCE_READ -> {
        String password = first(d, "password", "token");
        if (password == null) {
          throw VaultErrors.incomplete(source.path(), source.kind(), "password or token");
        }
        String user = first(d, "username", "user");
        // Over HTTPS GitLab takes any user name with a token; "oauth2" is its documented one.
        out.put(SecretKeys.GIT_USERNAME, user == null ? "oauth2" : user);
        out.put(SecretKeys.GIT_PASSWORD, password);
      }
      default -> throw new IllegalStateException("unknown credential kind " + source.kind());
    }
  }

  /** A deploy's Kubernetes token; {@link #toString()} never shows it. */
  private record IssuedToken(
      String token, String serviceAccount, String path, java.time.Instant expiresAt) {
    @Override
    public String toString() {
      return "IssuedToken[serviceAccount=" + serviceAccount + ", path=" + path + "]";
    }
  }

  private static IssuedToken token(SourceSpec source, VaultSecret secret) {
    Map<String, String> d = secret.data();
    String token = d.get("service_account_token");
    if (token == null || token.isBlank()) {
      throw VaultErrors.incomplete(source.path(), source.kind(), "service_account_token");
    }
    String account =
        d.getOrDefault("service_account_namespace", "?")
            + "/"
            + d.getOrDefault("service_account_name", "?");
    return new IssuedToken(token, account, source.path(), secret.expiresAt());
  }

  private void writeToken(CredentialRequest request, IssuedToken token) {
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put(Labels.WORKFLOW_ID_ANNOTATION, request.workflowId());
    annotations.put(DeployToken.VAULT_PATH_ANNOTATION, token.path());
    annotations.put(DeployToken.SERVICE_ACCOUNT_ANNOTATION, token.serviceAccount());
    if (token.expiresAt() != null) {
      annotations.put(DeployToken.EXPIRES_AT_ANNOTATION, token.expiresAt().toString());
    }
    Secret secret =
        new SecretBuilder()
            .withNewMetadata()
            .withName(DeployToken.SECRET_NAME)
            .withNamespace(request.secretNamespace())
            .withLabels(labels(request))
            .withAnnotations(annotations)
            .endMetadata()
            .withType("Opaque")
            .withData(
                Map.of(
                    DeployToken.TOKEN_KEY,
                    Base64.getEncoder()
                        .encodeToString(token.token().getBytes(StandardCharsets.UTF_8))))
            .build();
    try {
      kubernetes
          .secrets()
          .inNamespace(request.secretNamespace())
          .resource(secret)
          .createOr(NonDeletingOperation::update);
    } catch (KubernetesClientException e) {
      throw translate(
          e, "create/update of Secret", request.secretNamespace() + "/" + DeployToken.SECRET_NAME);
    }
  }

  private String dockerConfig(String user, String password) {
    ObjectNode root = JSON.createObjectNode();
    ObjectNode entry = root.putObject("auths").putObject(registryHost);
    entry.put("username", user);
    entry.put("password", password);
    entry.put(
        "auth",
        Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)));
    return JSON.writeValueAsString(root);
  }

  private static String first(Map<String, String> d, String... keys) {
    for (String k : keys) {
      String v = d.get(k);
      if (v != null && !v.isEmpty()) {
        return v;
      }
    }
    return null;
  }

  private static String missing(String a, String aName, String b, String bName) {
    List<String> names = new ArrayList<>();
    if (a == null) {
      names.add(aName);
    }
    if (b == null) {
      names.add(bName);
    }
    return String.join(" and ", names);
  }

  // ---- Kubernetes ----

  private void write(CredentialRequest request, Map<String, String> values) {
    Map<String, String> data = new LinkedHashMap<>();
    values.forEach(
        (k, v) ->
            data.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
    Secret secret =
        new SecretBuilder()
            .withNewMetadata()
            .withName(request.secretName())
            .withNamespace(request.secretNamespace())
            .withLabels(labels(request))
            .withAnnotations(Map.of(Labels.WORKFLOW_ID_ANNOTATION, request.workflowId()))
            .endMetadata()
            .withType(request.purpose() == CredentialPurpose.DEPLOY ? DOCKER_CONFIG_TYPE : "Opaque")
            .withData(data)
            .build();
    try {
      kubernetes
          .secrets()
          .inNamespace(request.secretNamespace())
          .resource(secret)
          .createOr(NonDeletingOperation::update);
    } catch (KubernetesClientException e) {
      throw translate(e, "create/update of Secret", request);
    }
  }

  static Map<String, String> labels(CredentialRequest request) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE);
    labels.put(Labels.WORKFLOW_ID, Names.labelValue(request.workflowId()));
    labels.put(Labels.KIND, kind(request.workflowId()));
    labels.put(PURPOSE_LABEL, request.purpose().name().toLowerCase(Locale.ROOT));
    return labels;
  }

  /** The kind of the owning workflow, from its id ({@code review-app/...}, {@code runner/...}). */
  private static String kind(String workflowId) {
    return workflowId.startsWith(Labels.KIND_RUNNER + "/")
        ? Labels.KIND_RUNNER
        : Labels.KIND_REVIEW_APP;
  }

  private void ensureNamespace(String ns) {
    try {
      if (kubernetes.namespaces().withName(ns).get() != null) {
        return;
      }
      kubernetes
          .namespaces()
          .resource(
              new NamespaceBuilder()
                  .withNewMetadata()
                  .withName(ns)
                  .addToLabels(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
                  .endMetadata()
                  .build())
          .create();
      log.info("Created namespace {} for a credentials Secret", ns);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw translate(e, "get/create of namespace", ns);
      }
    }
  }

  /** Names come from workflow ids; refuse to overwrite a Secret that is not this workflow's. */
  private void refuseForeignSecret(CredentialRequest request) {
    refuseForeignSecret(request, request.secretName());
  }

  private void refuseForeignSecret(CredentialRequest request, String name) {
    Secret live;
    try {
      live = kubernetes.secrets().inNamespace(request.secretNamespace()).withName(name).get();
    } catch (KubernetesClientException e) {
      throw translate(e, "get of Secret", request.secretNamespace() + "/" + name);
    }
    if (live == null) {
      return;
    }
    Map<String, String> a = live.getMetadata().getAnnotations();
    Map<String, String> l = live.getMetadata().getLabels();
    boolean ours =
        l != null
            && Labels.MANAGED_BY_VALUE.equals(l.get(Labels.MANAGED_BY))
            && a != null
            && request.workflowId().equals(a.get(Labels.WORKFLOW_ID_ANNOTATION));
    if (!ours) {
      throw FailureType.InvalidName.failure(
          "Secret "
              + request.secretNamespace()
              + "/"
              + name
              + " exists and does not belong to "
              + request.workflowId()
              + "; refusing to overwrite it");
    }
  }

  private static ApplicationFailure translate(
      KubernetesClientException e, String operation, CredentialRequest r) {
    return translate(e, operation + " " + r.secretNamespace() + "/" + r.secretName(), "");
  }

  private static ApplicationFailure translate(
      KubernetesClientException e, String operation, String target) {
    int code = e.getCode();
    String what = operation + (target.isEmpty() ? "" : " " + target) + " failed";
    if (code == 401 || code == 403) {
      return FailureType.KubernetesForbidden.failure(
          what
              + ": the cluster refused it (HTTP "
              + code
              + "). The worker's ServiceAccount needs get, create and update on secrets in the"
              + " target namespace, and get, create on namespaces");
    }
    if (code == 400 || code == 422) {
      return FailureType.KubernetesInvalid.failure(
          what + ": the cluster rejected it (HTTP " + code + ")");
    }
    return FailureType.KubernetesUnavailable.failure(
        what
            + ": "
            + (code <= 0
                ? "the cluster could not be reached"
                : "the cluster answered HTTP " + code));
  }

  // ---- helpers ----

  private static void check(CredentialRequest r) {
    if (r == null || r.workflowId() == null || r.workflowId().isBlank() || r.purpose() == null) {
      throw FailureType.VaultInvalid.failure(
          "a credential request needs a workflow id and a purpose: " + r);
    }
    if (!Names.isDns1123Label(r.secretNamespace()) || !validSecretName(r.secretName())) {
      throw FailureType.InvalidName.failure(
          "credential Secret "
              + r.secretNamespace()
              + "/"
              + r.secretName()
              + " is not a valid namespace and Secret name");
    }
    try {
      Names.labelValue(r.workflowId());
    } catch (IllegalArgumentException e) {
      throw FailureType.InvalidName.failure(e.getMessage());
    }
  }

  private static boolean validSecretName(String name) {
    return name != null
        && name.length() <= 253
        && name.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  }

  private void revokeQuietly(String workflowId, List<Lease> leases) {
    for (Lease lease : leases) {
      if (!lease.revocable()) {
        continue;
      }
      try {
        vault.revokeLease(lease.leaseId());
        index.remove(lease.leaseId());
        log.info(
            "Revoked lease {} ({}) of {}: issuing failed",
            lease.leaseId(),
            lease.path(),
            workflowId);
      } catch (RuntimeException e) {
        // It stays in the index (if it got there), where the reconciler finds it.
        log.warn(
            "Could not revoke lease {} ({}) of {} after a failed issue: {}",
            lease.leaseId(),
            lease.path(),
            workflowId,
            e.getMessage());
      }
    }
  }

  private static String describe(List<Lease> leases) {
    if (leases.isEmpty()) {
      return "nothing configured";
    }
    List<String> parts = new ArrayList<>();
    for (Lease l : leases) {
      parts.add(
          l.kind()
              + " from "
              + l.path()
              + (l.revocable() ? " (lease " + l.leaseId() + " until " + l.expiresAt() + ")" : ""));
    }
    return String.join(", ", parts);
  }
}
