package io.ephemera.activity.build;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Asks a registry whether it already has a tag: {@code HEAD /v2/<repository>/manifests/<tag>}, as
 * the distribution spec defines it, answering the registry's challenge when it sends one (a bearer
 * token from the {@code realm} of {@code WWW-Authenticate: Bearer ...}, or Basic). Credentials are
 * only ever sent in headers; no request, header or body is logged, and no message holds them.
 */
final class RegistryTagCheck {
  /** Every manifest type a tag may point at: without them some registries answer 404. */
  static final String MANIFEST_TYPES =
      String.join(
          ", ",
          "application/vnd.oci.image.index.v1+json",
          "application/vnd.oci.image.manifest.v1+json",
          "application/vnd.docker.distribution.manifest.list.v2+json",
          "application/vnd.docker.distribution.manifest.v2+json");

  private static final Pattern PARAM = Pattern.compile("([A-Za-z]+)=\"([^\"]*)\"");

  private final HttpClient http;
  private final String scheme;
  private final Duration timeout;
  private final JsonMapper json = JsonMapper.builder().build();

  RegistryTagCheck(BuildProperties.Registry props) {
    this(
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(props.timeout())
            // A redirect to another host must not receive the credentials.
            .followRedirects(HttpClient.Redirect.NEVER)
            .build(),
        props.scheme(),
        props.timeout());
  }

  RegistryTagCheck(HttpClient http, String scheme, Duration timeout) {
    this.http = http;
    this.scheme = scheme;
    this.timeout = timeout;
  }

  /** The check could not tell: the registry refused, failed or could not be reached. */
  static final class CheckFailed extends Exception {
    CheckFailed(String message) {
      super(message);
    }

    CheckFailed(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * @return whether the registry has the tag
   * @throws CheckFailed when it could not tell; the message names the image and status only
   */
  boolean exists(ImageRef image, Optional<DockerConfig.Login> login) throws CheckFailed {
    URI manifest =
        URI.create(
            scheme
                + "://"
                + image.apiHost()
                + "/v2/"
                + image.repository()
                + "/manifests/"
                + image.tag());
    HttpResponse<Void> first = head(manifest, null);
    if (first.statusCode() != 401) {
      return answer(image, first);
    }
    String challenge = first.headers().firstValue("WWW-Authenticate").orElse("");
    String authorization = authorize(image, challenge, login);
    return answer(image, head(manifest, authorization));
  }

  private boolean answer(ImageRef image, HttpResponse<Void> response) throws CheckFailed {
    int code = response.statusCode();
    if (code == 200) {
      return true;
    }
    if (code == 404) {
      return false;
    }
    throw new CheckFailed(
        "registry "
            + image.registry()
            + " answered HTTP "
            + code
            + " for the manifest of "
            + image);
  }

  /** The Authorization header that answers the registry's challenge. */
  private String authorize(ImageRef image, String challenge, Optional<DockerConfig.Login> login)
      throws CheckFailed {
    String lower = challenge.toLowerCase(Locale.ROOT);
    if (lower.startsWith("basic")) {
      DockerConfig.Login l =
          login
              .filter(x -> x.username() != null || x.password() != null)
              .orElseThrow(
                  () ->
                      new CheckFailed(
                          "registry "
                              + image.registry()
                              + " asks for a login and the credentials Secret has none for it"));
      return basic(l);
    }
    if (!lower.startsWith("bearer")) {
      throw new CheckFailed(
          "registry " + image.registry() + " answered 401 without a Bearer or Basic challenge");
    }
    Map<String, String> params = new LinkedHashMap<>();
    Matcher m = PARAM.matcher(challenge);
    while (m.find()) {
      params.put(m.group(1).toLowerCase(Locale.ROOT), m.group(2));
    }
    if (login.isPresent() && login.get().registryToken() != null) {
      return "Bearer " + login.get().registryToken();
    }
    String realm = params.get("realm");
    if (realm == null || realm.isBlank()) {
      throw new CheckFailed(
          "registry " + image.registry() + " sent a Bearer challenge without realm");
    }
    URI realmUri;
    try {
      realmUri = URI.create(realm);
    } catch (IllegalArgumentException e) {
      throw new CheckFailed("registry " + image.registry() + " sent an unusable token realm", e);
    }
    if (!"https".equals(realmUri.getScheme()) && !"http".equals(scheme)) {
      // Credentials go to the realm: never in clear text unless the registry itself is plain http.
      throw new CheckFailed(
          "registry " + image.registry() + " named a token realm that is not https");
    }
    StringBuilder query = new StringBuilder();
    if (params.containsKey("service")) {
      query.append("service=").append(encode(params.get("service")));
    }
    String scope = params.getOrDefault("scope", "repository:" + image.repository() + ":pull");
    query.append(query.isEmpty() ? "" : "&").append("scope=").append(encode(scope));
    URI tokenUri = URI.create(realm + (realm.contains("?") ? "&" : "?") + query);
    HttpRequest.Builder req =
        HttpRequest.newBuilder(tokenUri)
            .timeout(timeout)
            .GET()
            .header("Accept", "application/json");
    login
        .filter(x -> x.username() != null || x.password() != null)
        .ifPresent(l -> req.header("Authorization", basic(l)));
    HttpResponse<byte[]> response =
        send(req.build(), HttpResponse.BodyHandlers.ofByteArray(), image);
    if (response.statusCode() != 200) {
      throw new CheckFailed(
          "the token service of registry "
              + image.registry()
              + " answered HTTP "
              + response.statusCode());
    }
    try {
      JsonNode body = json.readTree(response.body());
      String token = body.path("token").asString("");
      if (token.isEmpty()) {
        token = body.path("access_token").asString("");
      }
      if (token.isEmpty()) {
        throw new CheckFailed(
            "the token service of registry " + image.registry() + " answered no token");
      }
      return "Bearer " + token;
    } catch (JacksonException e) {
      throw new CheckFailed(
          "the token service of registry " + image.registry() + " answered something not JSON");
    }
  }

  private HttpResponse<Void> head(URI uri, String authorization) throws CheckFailed {
    HttpRequest.Builder req =
        HttpRequest.newBuilder(uri)
            .timeout(timeout)
            .method("HEAD", HttpRequest.BodyPublishers.noBody())
            .header("Accept", MANIFEST_TYPES);
    if (authorization != null) {
      req.header("Authorization", authorization);
    }
    return send(req.build(), HttpResponse.BodyHandlers.discarding(), null);
  }

  private <T> HttpResponse<T> send(
      HttpRequest request, HttpResponse.BodyHandler<T> handler, ImageRef image) throws CheckFailed {
    try {
      return http.send(request, handler);
    } catch (IOException e) {
      throw new CheckFailed(
          "registry at "
              + request.uri().getHost()
              + " could not be reached ("
              + e.getClass().getSimpleName()
              + ")",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CheckFailed("interrupted while asking the registry", e);
    }
  }

  private static String basic(DockerConfig.Login l) {
    String pair =
        (l.username() == null ? "" : l.username())
            + ":"
            + (l.password() == null ? "" : l.password());
    return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
