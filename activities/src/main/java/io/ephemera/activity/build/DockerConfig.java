package io.ephemera.activity.build;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The registry credentials of a {@code .dockerconfigjson}, as Kaniko reads them from {@code
 * /kaniko/.docker/config.json}. Read inside the activity only; nothing here is ever logged or
 * returned, and {@link #toString()} says nothing about the values.
 */
final class DockerConfig {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  /** One registry's login: a user and password, or a registry token to send as a bearer. */
  record Login(String username, String password, String registryToken) {
    @Override
    public String toString() {
      return "Login[redacted]";
    }
  }

  private final Map<String, Login> byRegistry;

  private DockerConfig(Map<String, Login> byRegistry) {
    this.byRegistry = byRegistry;
  }

  static DockerConfig empty() {
    return new DockerConfig(Map.of());
  }

  /**
   * @throws IllegalArgumentException when the file is not a Docker config; the message holds no
   *     part of it
   */
  static DockerConfig parse(byte[] json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JacksonException e) {
      throw new IllegalArgumentException("the registry credential is not valid JSON");
    }
    JsonNode auths = root.path("auths");
    if (!auths.isObject()) {
      return empty();
    }
    Map<String, Login> logins = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : auths.properties()) {
      JsonNode entry = e.getValue();
      String user = text(entry, "username");
      String password = text(entry, "password");
      String auth = text(entry, "auth");
      if (auth != null && (user == null || password == null)) {
        String decoded;
        try {
          decoded = new String(Base64.getDecoder().decode(auth), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException notBase64) {
          throw new IllegalArgumentException(
              "the registry credential for " + e.getKey() + " has an auth that is not base64");
        }
        int colon = decoded.indexOf(':');
        if (colon >= 0) {
          user = decoded.substring(0, colon);
          password = decoded.substring(colon + 1);
        }
      }
      String token = text(entry, "registrytoken");
      if (user != null || password != null || token != null) {
        logins.put(normalise(e.getKey()), new Login(user, password, token));
      }
    }
    return new DockerConfig(Map.copyOf(logins));
  }

  /** The login for a registry host, matching the way Docker keys them (scheme and path ignored). */
  Optional<Login> loginFor(String registry) {
    String key = normalise(registry);
    Login login = byRegistry.get(key);
    if (login == null && isDockerHub(key)) {
      for (Map.Entry<String, Login> e : byRegistry.entrySet()) {
        if (isDockerHub(e.getKey())) {
          return Optional.of(e.getValue());
        }
      }
    }
    return Optional.ofNullable(login);
  }

  /** Every secret value it holds, so a build log can be scrubbed of them. */
  List<String> secretValues() {
    List<String> values = new ArrayList<>();
    for (Login l : byRegistry.values()) {
      if (l.password() != null) {
        values.add(l.password());
      }
      if (l.registryToken() != null) {
        values.add(l.registryToken());
      }
    }
    return values;
  }

  @Override
  public String toString() {
    return "DockerConfig" + byRegistry.keySet();
  }

  private static boolean isDockerHub(String host) {
    return host.equals("docker.io")
        || host.equals("index.docker.io")
        || host.equals("registry-1.docker.io");
  }

  static String normalise(String key) {
    String k = key.trim().toLowerCase(Locale.ROOT);
    int scheme = k.indexOf("://");
    if (scheme >= 0) {
      k = k.substring(scheme + 3);
    }
    int slash = k.indexOf('/');
    return slash >= 0 ? k.substring(0, slash) : k;
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    return v == null || !v.isString() || v.asString().isEmpty() ? null : v.asString();
  }
}
