package io.ephemera.worker.config;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Turns Ephemera's own settings into the settings of the libraries it uses, and refuses to start a
 * production process on in-memory or sandboxed defaults.
 *
 * <ul>
 *   <li>{@code ephemera.temporal.target} becomes the Temporal starter's {@code
 *       spring.temporal.connection.target}; TLS and API keys stay in the starter's own properties.
 *   <li>Without a target, the {@code local} profile gets an in-JVM Temporal server; any other
 *       profile fails with a message naming the property.
 *   <li>The sandbox cluster is refused outside {@code local}; so is a missing GitLab URL (the local
 *       profile gets the sandbox GitLab, the sandbox EC2 unless a region is set, and the sandbox
 *       registry, named by {@code ephemera.review.registry}, unless a registry is set), and a
 *       missing Vault address in a worker (the local profile gets the sandbox Vault).
 *   <li>Without REST API tokens, {@code local} generates one (printed at start-up); other profiles
 *       fail when the api role is on.
 *   <li>Payload encryption ({@code ephemera.codec.enabled}) is on by default outside {@code local}
 *       and off in it; on without any key is refused in every profile, and so are keys from Vault
 *       ({@code ephemera.codec.keys-from-vault}) without {@code ephemera.vault.address}, in every
 *       role and profile.
 * </ul>
 *
 * Runs here rather than in a bean because the Temporal starter reads its target while the context
 * is being built.
 */
public class EphemeraEnvironmentPostProcessor implements EnvironmentPostProcessor {
  public static final String LOCAL_PROFILE = "local";
  static final String SOURCE_NAME = "ephemeraDerived";
  static final String EMBEDDED = "ephemera.temporal.embedded";
  static final String EMBEDDED_PORT = "ephemera.temporal.embedded-port";
  static final String GENERATED_TOKEN = "ephemera.api.generated-token";
  static final String GITLAB_SANDBOX = "ephemera.gitlab.sandbox";
  static final String EC2_SANDBOX = "ephemera.runners.ec2.sandbox";
  static final String VAULT_SANDBOX = "ephemera.vault.sandbox";
  static final String REGISTRY_SANDBOX = "ephemera.sandbox.registry.enabled";
  static final String REGISTRY_SANDBOX_PORT = "ephemera.sandbox.registry.port";
  static final String CODEC_ENABLED = "ephemera.codec.enabled";

  @Override
  public void postProcessEnvironment(ConfigurableEnvironment env, SpringApplication application) {
    boolean local = env.matchesProfiles(LOCAL_PROFILE);
    Set<String> roles = Roles.from(env);
    Map<String, Object> derived = new LinkedHashMap<>();

    String target = env.getProperty("ephemera.temporal.target");
    if (target != null && !target.isBlank()) {
      derived.put("spring.temporal.connection.target", target.trim());
      derived.put(EMBEDDED, "false");
    } else if (local) {
      int port = env.getProperty(EMBEDDED_PORT, Integer.class, 7233);
      if (port == 0) {
        port = freeLoopbackPort();
      }
      derived.put("spring.temporal.connection.target", "127.0.0.1:" + port);
      derived.put(EMBEDDED, "true");
      derived.put(EMBEDDED_PORT, port);
    } else {
      throw new MissingConfigurationException(
          "ephemera.temporal.target is not set. Set it to your Temporal frontend (host:port);"
              + " only the 'local' profile may run on an in-memory Temporal server.");
    }

    boolean sandbox = env.getProperty("ephemera.kubernetes.sandbox", Boolean.class, local);
    if (sandbox && !local) {
      throw new MissingConfigurationException(
          "ephemera.kubernetes.sandbox=true is only allowed in the 'local' profile: nothing"
              + " sandboxed runs in production. Provide a kubeconfig or in-cluster service"
              + " account and set ephemera.kubernetes.sandbox=false.");
    }
    derived.put("ephemera.kubernetes.sandbox", Boolean.toString(sandbox));

    boolean gitlabConfigured = !isBlank(env.getProperty("ephemera.gitlab.url"));
    if (!gitlabConfigured && !local) {
      throw new MissingConfigurationException(
          "ephemera.gitlab.url is not set. Set it (and ephemera.gitlab.token) to your GitLab;"
              + " only the 'local' profile may use the sandbox GitLab.");
    }
    if (gitlabConfigured && isBlank(env.getProperty("ephemera.gitlab.token"))) {
      throw new MissingConfigurationException(
          "ephemera.gitlab.token is not set: Ephemera needs a GitLab token with the create_runner"
              + " and api scopes to register runners and read jobs.");
    }
    derived.put(GITLAB_SANDBOX, Boolean.toString(!gitlabConfigured));
    // EC2 is optional outside local (EC2 routes then fail with a clear error); in local, a
    // sandbox stands in unless a real region or endpoint is configured.
    boolean ec2Configured =
        !isBlank(env.getProperty("ephemera.runners.ec2.region"))
            || !isBlank(env.getProperty("ephemera.runners.ec2.endpoint-override"));
    derived.put(EC2_SANDBOX, Boolean.toString(local && !ec2Configured));
    // In local, a sandbox registry stands in unless one is configured. Its port is chosen here:
    // ephemera.review.registry names it, and is bound before any bean could start it.
    boolean registrySandbox = local && isBlank(env.getProperty("ephemera.review.registry"));
    derived.put(REGISTRY_SANDBOX, Boolean.toString(registrySandbox));
    if (registrySandbox) {
      int registryPort = freeLoopbackPort();
      derived.put(REGISTRY_SANDBOX_PORT, registryPort);
      derived.put("ephemera.review.registry", "127.0.0.1:" + registryPort);
    }

    // Only workers issue credentials; an api-only process never talks to Vault.
    boolean vaultConfigured = !isBlank(env.getProperty("ephemera.vault.address"));
    if (!vaultConfigured && !local && roles.contains(Roles.WORKER)) {
      throw new MissingConfigurationException(
          "ephemera.vault.address is not set. Set it (and ephemera.vault.auth.*) to your Vault;"
              + " only the 'local' profile may use the sandbox Vault.");
    }
    derived.put(VAULT_SANDBOX, Boolean.toString(local && !vaultConfigured));

    if (roles.contains(Roles.API) && isBlank(env.getProperty("ephemera.api.tokens"))) {
      if (local) {
        derived.put("ephemera.api.tokens", generateToken());
        derived.put(GENERATED_TOKEN, "true");
      } else {
        throw new MissingConfigurationException(
            "ephemera.api.tokens is not set: the REST API would refuse every request. Set one or"
                + " more bearer tokens (comma-separated).");
      }
    }
    if (roles.contains(Roles.API)
        && !local
        && isBlank(env.getProperty("ephemera.gitlab.webhook-token"))) {
      throw new MissingConfigurationException(
          "ephemera.gitlab.webhook-token is not set: every GitLab delivery would be refused. Set"
              + " it to the secret token of the GitLab webhook.");
    }
    derived.put(CODEC_ENABLED, Boolean.toString(codecEnabled(env, local, vaultConfigured)));
    env.getPropertySources().addFirst(new MapPropertySource(SOURCE_NAME, derived));
  }

  /**
   * On by default outside {@code local}: histories in a shared Temporal cluster must not be
   * readable by whoever reads the cluster. Off in {@code local}, where the embedded server lives in
   * this process and plain payloads make the UI and tests easy to read, unless asked for.
   */
  private static boolean codecEnabled(
      ConfigurableEnvironment env, boolean local, boolean vaultConfigured) {
    boolean enabled = env.getProperty(CODEC_ENABLED, Boolean.class, !local);
    if (!enabled) {
      return false;
    }
    Binder binder = Binder.get(env);
    boolean keys =
        !binder
            .bind("ephemera.codec.keys", Bindable.mapOf(String.class, String.class))
            .orElse(Map.of())
            .isEmpty();
    String vaultPath = env.getProperty("ephemera.codec.keys-from-vault");
    boolean vault = !isBlank(vaultPath);
    if (vault && !vaultConfigured) {
      // Every role encrypts, so an api-only process logs in to Vault for the keys as well. The
      // sandbox Vault cannot stand in: its state, and so the keys, would be new at every start.
      throw new MissingConfigurationException(
          "ephemera.codec.keys-from-vault ("
              + vaultPath.strip()
              + ") is set but ephemera.vault.address is not: every process that encrypts payloads,"
              + " api as well as worker, reads the keys from Vault at start-up. Set"
              + " ephemera.vault.address and ephemera.vault.auth.*"
              + (local
                  ? ", or configure the keys with ephemera.codec.keys.<id> (the sandbox Vault of"
                      + " the 'local' profile does not hold codec keys)."
                  : "."));
    }
    if (!keys && !vault) {
      throw new MissingConfigurationException(
          "ephemera.codec.enabled is "
              + (local ? "true" : "true (the default outside the 'local' profile)")
              + " but no key is configured: set ephemera.codec.keys.<id> to the base64 of 32"
              + " random bytes (openssl rand -base64 32) and ephemera.codec.key-id to <id>, or"
              + " ephemera.codec.keys-from-vault to a Vault KV path. Turning encryption off"
              + " (ephemera.codec.enabled=false) leaves workflow payloads readable in Temporal.");
    }
    return true;
  }

  private static boolean isBlank(String s) {
    return s == null || s.isBlank();
  }

  private static String generateToken() {
    byte[] bytes = new byte[24];
    new SecureRandom().nextBytes(bytes);
    return "local-" + HexFormat.of().formatHex(bytes);
  }

  private static int freeLoopbackPort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException("no free loopback port for an in-process stand-in", e);
    }
  }

  /** A required setting is missing or not allowed in this profile. */
  public static final class MissingConfigurationException extends IllegalStateException {
    public MissingConfigurationException(String message) {
      super(message);
    }
  }
}
