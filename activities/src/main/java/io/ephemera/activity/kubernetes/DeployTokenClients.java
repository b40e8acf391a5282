package io.ephemera.activity.kubernetes;

import io.ephemera.common.FailureType;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link NamespaceClients} on the deploy's Kubernetes token: for a review namespace, a client that
 * reaches the same API server as the worker's (master URL, CA, proxy, timeouts) but authenticates
 * with the bearer token in the namespace's {@link DeployToken#SECRET_NAME} Secret, which the
 * credential activity issued from Vault's Kubernetes secrets engine. Nothing of the worker's own
 * identity (token, client certificate, kubeconfig user) is copied, and the client never refreshes
 * its token from anywhere else: a revoked or expired token fails, it does not fall back.
 *
 * <p>Clients are cached by namespace and the Secret's resourceVersion: a new deploy writes a new
 * token, the next call sees a new resourceVersion, builds a new client and closes the replaced one.
 * Each call reads the Secret once with the worker's client (which therefore needs get on secrets in
 * review namespaces). The cache holds at most {@link #MAX_CLIENTS} clients, closing the least
 * recently used beyond that, and {@link #release} closes a namespace's client at teardown.
 *
 * <p>When {@code required} (the token source is configured for every project), a missing Secret is
 * a retryable {@code KubernetesUnavailable}: it names the Secret and what writes it. Otherwise (the
 * source is configured for some projects only) a namespace without the Secret uses the worker's
 * client. The token is never logged and never part of a failure message.
 */
public final class DeployTokenClients implements NamespaceClients, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DeployTokenClients.class);

  /**
   * Review apps deploying at the same moment on one worker; beyond it the least recently used
   * client is closed (a deploy that still holds it fails its call and is retried).
   */
  static final int MAX_CLIENTS = 64;

  private final KubernetesClient worker;
  private final boolean required;
  private final Function<Config, KubernetesClient> factory;
  private final Clock clock;

  // Guarded by this; access order, so the eldest entry is the least recently used.
  private final LinkedHashMap<String, Cached> clients = new LinkedHashMap<>(16, 0.75f, true);
  private boolean closed;

  /**
   * @param worker the worker's own client: reads the token Secrets, and lends its endpoint and CA
   * @param required whether every review namespace must have a token (see the class comment)
   */
  public DeployTokenClients(KubernetesClient worker, boolean required) {
    this(
        worker,
        required,
        config -> new KubernetesClientBuilder().withConfig(config).build(),
        Clock.systemUTC());
  }

  DeployTokenClients(
      KubernetesClient worker,
      boolean required,
      Function<Config, KubernetesClient> factory,
      Clock clock) {
    this.worker = Objects.requireNonNull(worker, "worker");
    this.required = required;
    this.factory = factory;
    this.clock = clock;
  }

  @Override
  public KubernetesClient forNamespace(String namespace) {
    Secret secret = readSecret(namespace);
    if (secret == null) {
      release(namespace);
      if (!required) {
        return worker;
      }
      throw FailureType.KubernetesUnavailable.failure(
          "the deploy token Secret "
              + namespace
              + "/"
              + DeployToken.SECRET_NAME
              + " does not exist. With ephemera.vault.deploy.kubernetes configured the review"
              + " app's objects are written only with that token, which the deploy's"
              + " pull-credentials step issues from Vault and writes there; retrying (a worker"
              + " without the setting, or a deleted Secret, leaves it missing until the next"
              + " deploy)");
    }
    checkNotExpired(secret, namespace);
    String resourceVersion = secret.getMetadata().getResourceVersion();
    synchronized (this) {
      Cached cached = clients.get(namespace);
      if (cached != null && Objects.equals(cached.resourceVersion(), resourceVersion)) {
        return cached.client();
      }
    }
    String token = token(secret, namespace);
    KubernetesClient client = factory.apply(config(namespace, token));
    List<KubernetesClient> toClose = new ArrayList<>();
    synchronized (this) {
      if (closed) {
        toClose.add(client);
      } else {
        Cached replaced = clients.put(namespace, new Cached(resourceVersion, client));
        if (replaced != null) {
          toClose.add(replaced.client());
        }
        Iterator<Map.Entry<String, Cached>> eldest = clients.entrySet().iterator();
        while (clients.size() > MAX_CLIENTS && eldest.hasNext()) {
          toClose.add(eldest.next().getValue().client());
          eldest.remove();
        }
      }
    }
    toClose.forEach(DeployTokenClients::closeQuietly);
    if (toClose.contains(client)) {
      throw FailureType.KubernetesUnavailable.failure("the worker is shutting down");
    }
    log.info(
        "Namespace {}: writing with the deploy token of Secret {} (resourceVersion {}, service"
            + " account {})",
        namespace,
        DeployToken.SECRET_NAME,
        resourceVersion,
        annotation(secret, DeployToken.SERVICE_ACCOUNT_ANNOTATION));
    return client;
  }

  @Override
  public void release(String namespace) {
    Cached cached;
    synchronized (this) {
      cached = clients.remove(namespace);
    }
    if (cached != null) {
      closeQuietly(cached.client());
    }
  }

  /** Namespaces holding a cached client, for tests and diagnostics. */
  synchronized List<String> cachedNamespaces() {
    return List.copyOf(clients.keySet());
  }

  @Override
  public void close() {
    List<Cached> all;
    synchronized (this) {
      closed = true;
      all = List.copyOf(clients.values());
      clients.clear();
    }
    all.forEach(c -> closeQuietly(c.client()));
  }

  // ---- the Secret ----

  private Secret readSecret(String namespace) {
    try {
      return worker.secrets().inNamespace(namespace).withName(DeployToken.SECRET_NAME).get();
    } catch (KubernetesClientException e) {
      throw KubernetesErrors.translate(
          e, List.of("get"), Secret.class, DeployToken.SECRET_NAME, namespace);
    }
  }

  private static String token(Secret secret, String namespace) {
    String token = null;
    Map<String, String> data = secret.getData();
    if (data != null && data.get(DeployToken.TOKEN_KEY) != null) {
      try {
        token =
            new String(
                Base64.getDecoder().decode(data.get(DeployToken.TOKEN_KEY).trim()),
                StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        // Not base64; the message below says what is wrong without the value.
        token = null;
      }
    } else if (secret.getStringData() != null) {
      token = secret.getStringData().get(DeployToken.TOKEN_KEY);
    }
    if (token == null || token.isBlank()) {
      throw FailureType.KubernetesUnavailable.failure(
          "the deploy token Secret "
              + namespace
              + "/"
              + DeployToken.SECRET_NAME
              + " holds no base64 token under key '"
              + DeployToken.TOKEN_KEY
              + "'; retrying until a deploy writes it again");
    }
    return token.trim();
  }

  private void checkNotExpired(Secret secret, String namespace) {
    String expires = annotation(secret, DeployToken.EXPIRES_AT_ANNOTATION);
    if (expires == null) {
      return;
    }
    Instant at;
    try {
      at = Instant.parse(expires);
    } catch (DateTimeParseException e) {
      log.warn(
          "Secret {}/{} has an unreadable expiry '{}'",
          namespace,
          DeployToken.SECRET_NAME,
          expires);
      return;
    }
    if (!clock.instant().isBefore(at)) {
      throw FailureType.KubernetesForbidden.failure(
          "the deploy token in Secret "
              + namespace
              + "/"
              + DeployToken.SECRET_NAME
              + " expired at "
              + at
              + ": its Vault lease ("
              + annotation(secret, DeployToken.VAULT_PATH_ANNOTATION)
              + ") is shorter than this deploy; raise ephemera.vault.deploy.kubernetes.ttl. The"
              + " next deploy issues a new token");
    }
  }

  private static String annotation(Secret secret, String key) {
    Map<String, String> a = secret.getMetadata().getAnnotations();
    return a == null ? null : a.get(key);
  }

  // ---- the client ----

  /**
   * The worker's endpoint settings with the token as the only credential. Built from {@link
   * Config#empty()}: no kubeconfig, environment or service-account file is read, so nothing can
   * replace the token.
   */
  private Config config(String namespace, String token) {
    Config w = worker.getConfiguration();
    ConfigBuilder b =
        new ConfigBuilder(Config.empty())
            .withMasterUrl(w.getMasterUrl())
            .withTrustCerts(w.isTrustCerts())
            .withDisableHostnameVerification(w.isDisableHostnameVerification())
            .withNamespace(namespace)
            .withOauthToken(token);
    if (w.getCaCertFile() != null) {
      b.withCaCertFile(w.getCaCertFile());
    }
    if (w.getCaCertData() != null) {
      b.withCaCertData(w.getCaCertData());
    }
    if (w.getHttpProxy() != null) {
      b.withHttpProxy(w.getHttpProxy());
    }
    if (w.getHttpsProxy() != null) {
      b.withHttpsProxy(w.getHttpsProxy());
    }
    if (w.getNoProxy() != null) {
      b.withNoProxy(w.getNoProxy());
    }
    if (w.getConnectionTimeout() != null) {
      b.withConnectionTimeout(w.getConnectionTimeout());
    }
    if (w.getRequestTimeout() != null) {
      b.withRequestTimeout(w.getRequestTimeout());
    }
    if (w.getTlsVersions() != null) {
      b.withTlsVersions(w.getTlsVersions());
    }
    return b.build();
  }

  private static void closeQuietly(KubernetesClient client) {
    try {
      client.close();
    } catch (RuntimeException e) {
      log.debug("Closing a deploy-token client failed: {}", e.toString());
    }
  }

  private record Cached(String resourceVersion, KubernetesClient client) {}
}
