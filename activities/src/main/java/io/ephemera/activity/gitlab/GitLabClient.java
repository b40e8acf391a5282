package io.ephemera.activity.gitlab;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The few GitLab REST v4 calls Ephemera makes, over the JDK {@link HttpClient} with Jackson.
 *
 * <p>Why not gitlab4j-api: its 6.2.0 {@code RunnersApi} has no call for {@code POST /user/runners}
 * (only the legacy registration-token {@code POST /runners}, removed in GitLab 18), cannot filter
 * project runners by type, and its {@code GitLabApiException} hides {@code Retry-After} behind
 * JAX-RS types; using it for half of the calls would mean two clients, Jersey on the classpath and
 * version pins against Spring Boot's BOM, for five endpoints that are plain JSON over HTTP. One
 * small client keeps every call, header and error in one place.
 *
 * <p>Authentication is the {@code PRIVATE-TOKEN} header, which GitLab accepts for personal, group
 * and project access tokens. Redirects are never followed (a redirect to another host must not
 * receive the token), and no request, header or response body is ever logged. Thread-safe; one
 * instance serves every activity and the tag lookup.
 */
public final class GitLabClient {
  /** What GitLab's error bodies may contribute to a failure message, at most. */
  private static final int MAX_SERVER_MESSAGE = 300;

  /** GitLab token formats (glrt-, glpat-, gldt-, ...): never echoed, even from an error body. */
  private static final Pattern GITLAB_TOKEN = Pattern.compile("gl[a-z]{2,6}-[A-Za-z0-9_.\\-]{6,}");

  private final URI apiRoot;
  private final String token;
  private final Duration requestTimeout;
  private final HttpClient http;
  private final JsonMapper json = JsonMapper.builder().build();
  private final Clock clock;

  /** A client for the configured GitLab; {@code url} and {@code token} must be set. */
  public GitLabClient(GitLabProperties props) {
    this(
        props,
        HttpClient.newBuilder()
            // HTTP/1.1: the JDK would otherwise try an h2c upgrade on http:// URLs, which proxies
            // in
            // front of GitLab and the sandbox may answer badly; these calls gain nothing from h2.
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(props.requestTimeout())
            .followRedirects(HttpClient.Redirect.NEVER)
            .build(),
        Clock.systemUTC());
  }

  GitLabClient(GitLabProperties props, HttpClient http, Clock clock) {
    Objects.requireNonNull(props, "props");
    if (!props.configured()) {
      throw new IllegalStateException("ephemera.gitlab.url is not configured");
    }
    if (props.token() == null) {
      throw new IllegalStateException(
          "ephemera.gitlab.token is not configured: Ephemera needs a token with the create_runner"
              + " and api scopes to register runners (set it, or EPHEMERA_GITLAB_TOKEN)");
    }
    this.apiRoot = props.apiRoot();
    this.token = props.token();
    this.requestTimeout = props.requestTimeout();
    this.http = http;
    this.clock = clock;
  }

  /** The REST root this client talks to, e.g. {@code https://gitlab.example.com/api/v4}. */
  public URI apiRoot() {
    return apiRoot;
  }

  Answer get(String path, Map<String, ?> query) {
    return get(path, query, requestTimeout);
  }

  Answer get(String path, Map<String, ?> query, Duration timeout) {
    return send("GET", path, query, null, timeout);
  }

  Answer postJson(String path, Map<String, ?> body) {
    return send("POST", path, Map.of(), json.writeValueAsString(body), requestTimeout);
  }

  Answer putJson(String path, Map<String, ?> body) {
    return send("PUT", path, Map.of(), json.writeValueAsString(body), requestTimeout);
  }

  Answer delete(String path) {
    return send("DELETE", path, Map.of(), null, requestTimeout);
  }

  private Answer send(
      String method, String path, Map<String, ?> query, String jsonBody, Duration timeout) {
    URI uri = URI.create(apiRoot + path + queryString(query));
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri)
            .timeout(timeout)
            .header("PRIVATE-TOKEN", token)
            .header("Accept", "application/json")
            .header("User-Agent", "ephemera");
    if (jsonBody != null) {
      request
          .header("Content-Type", "application/json")
          .method(method, HttpRequest.BodyPublishers.ofString(jsonBody, StandardCharsets.UTF_8));
    } else {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    }
    HttpResponse<String> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (HttpTimeoutException e) {
      throw new GitLabCallException(method, path, 0, "no answer within " + timeout, null, null);
    } catch (IOException e) {
      throw new GitLabCallException(method, path, 0, describe(e), null, null);
    } catch (InterruptedException e) {
      // The worker is shutting down or the activity was cancelled; keep the flag for the caller.
      Thread.currentThread().interrupt();
      throw new GitLabCallException(method, path, 0, "interrupted", null, null);
    }
    int status = response.statusCode();
    if (status >= 200 && status < 300) {
      return new Answer(status, parse(method, path, status, response.body()), response.headers());
    }
    throw new GitLabCallException(
        method,
        path,
        status,
        "HTTP " + status,
        retryAfter(response).orElse(null),
        serverMessage(response.body()));
  }

  private JsonNode parse(String method, String path, int status, String body) {
    if (body == null || body.isBlank()) {
      return json.missingNode();
    }
    try {
      return json.readTree(body);
    } catch (JacksonException e) {
      // A proxy's HTML page with a 200, typically. Never echo the body: it may be a token answer.
      throw new GitLabCallException(
          method, path, status, "HTTP " + status + " with a body that is not JSON", null, null);
    }
  }

  /** {@code Retry-After} in seconds or as an HTTP date, as GitLab and proxies send it. */
  private Optional<Duration> retryAfter(HttpResponse<?> response) {
    Optional<String> header = response.headers().firstValue("Retry-After").map(String::trim);
    if (header.isEmpty() || header.get().isEmpty()) {
      return Optional.empty();
    }
    String v = header.get();
    try {
      long seconds = Long.parseLong(v);
      return seconds < 0 ? Optional.empty() : Optional.of(Duration.ofSeconds(seconds));
    } catch (NumberFormatException notSeconds) {
      try {
        Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        Duration d = Duration.between(clock.instant(), at);
        return Optional.of(d.isNegative() ? Duration.ZERO : d);
      } catch (DateTimeParseException notADate) {
        return Optional.empty();
      }
    }
  }

  /** GitLab's {@code message} or {@code error}, shortened and with anything token-like removed. */
  private String serverMessage(String body) {
    if (body == null || body.isBlank()) {
      return null;
    }
    String m;
    try {
      JsonNode node = json.readTree(body);
      JsonNode message = node.has("message") ? node.get("message") : node.get("error");
      if (message == null || message.isNull()) {
        return null;
      }
      m = message.isString() ? message.asString() : message.toString();
    } catch (JacksonException e) {
      return null;
    }
    m = GITLAB_TOKEN.matcher(m).replaceAll("[redacted]");
    return m.length() > MAX_SERVER_MESSAGE ? m.substring(0, MAX_SERVER_MESSAGE) + "…" : m;
  }

  private static String queryString(Map<String, ?> query) {
    if (query.isEmpty()) {
      return "";
    }
    StringBuilder b = new StringBuilder("?");
    for (Map.Entry<String, ?> e : new LinkedHashMap<>(query).entrySet()) {
      if (b.length() > 1) {
        b.append('&');
      }
      b.append(URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8))
          .append('=')
          .append(URLEncoder.encode(String.valueOf(e.getValue()), StandardCharsets.UTF_8));
    }
    return b.toString();
  }

  private static String describe(IOException e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String m = root.getMessage();
    return "no answer (" + root.getClass().getSimpleName() + (m == null ? "" : ": " + m) + ")";
  }

  /** A 2xx answer: its status, parsed body (a missing node when empty) and headers. */
  record Answer(int status, JsonNode body, HttpHeaders headers) {
    Optional<String> header(String name) {
      return headers.firstValue(name);
    }

    @Override
    public String toString() {
      // The body of a runner creation holds the runner's token.
      return "Answer[status=" + status + "]";
    }
  }
}
