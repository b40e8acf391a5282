package io.ephemera.activity.gitlab;

import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code ephemera.gitlab.*}, the API side: where GitLab is and how Ephemera authenticates to it.
 * The api module binds the webhook side ({@code webhook-token}, {@code max-payload}, ...) under the
 * same prefix from its own record; the two records bind disjoint keys, so neither declares the
 * other's.
 *
 * @param url GitLab's base URL, e.g. {@code https://gitlab.example.com} (with its relative path, if
 *     GitLab is served under one); {@code null} means not configured, which the {@code local}
 *     profile answers with the sandbox GitLab and every other profile with a start-up error
 * @param token an access token with the {@code create_runner} and {@code api} scopes (personal,
 *     group or project access token of a Maintainer of the served projects), from configuration or
 *     an environment variable mounted from a Secret ({@code EPHEMERA_GITLAB_TOKEN}); never logged,
 *     never in {@link #toString()}
 * @param requestTimeout connect and response timeout of one API call
 * @param jobTagsTimeout timeout of the tag lookup on the webhook intake path, which must answer
 *     well within GitLab's webhook timeout; on expiry the intake uses the payload's tags
 */
@ConfigurationProperties("ephemera.gitlab")
public record GitLabProperties(
    String url, String token, Duration requestTimeout, Duration jobTagsTimeout) {

  public GitLabProperties {
    url = url == null || url.isBlank() ? null : normalise(url.trim());
    token = token == null || token.isBlank() ? null : token.trim();
    // Ten seconds: GitLab answers these calls in well under a second; a slow answer is an outage,
    // and the activity's retry policy is the better place to wait.
    requestTimeout = positive("request-timeout", requestTimeout, Duration.ofSeconds(10));
    jobTagsTimeout = positive("job-tags-timeout", jobTagsTimeout, Duration.ofSeconds(2));
  }

  /** A configuration pointing at {@code url} with {@code token}, every other value defaulted. */
  public static GitLabProperties of(String url, String token) {
    return new GitLabProperties(url, token, null, null);
  }

  /** Whether a GitLab is configured at all; without one, only the local profile may start. */
  public boolean configured() {
    return url != null;
  }

  /** The REST v4 root, e.g. {@code https://gitlab.example.com/api/v4}. */
  public URI apiRoot() {
    if (url == null) {
      throw new IllegalStateException("ephemera.gitlab.url is not configured");
    }
    return URI.create(url + "/api/v4");
  }

  @Override
  public String toString() {
    // The token is a credential: records print every component, so this one says only whether it
    // is set.
    return "GitLabProperties[url="
        + url
        + ", token="
        + (token == null ? "(none)" : "(set)")
        + ", requestTimeout="
        + requestTimeout
        + ", jobTagsTimeout="
        + jobTagsTimeout
        + "]";
  }

  private static String normalise(String url) {
    URI uri;
    try {
      uri = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("ephemera.gitlab.url is not a URL: " + url, e);
    }
    if (uri.getRawUserInfo() != null) {
      // Checked first, and the URL not echoed: it holds a credential.
      throw new IllegalArgumentException(
          "ephemera.gitlab.url must not hold credentials: put the token in ephemera.gitlab.token");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!(scheme.equals("https") || scheme.equals("http")) || uri.getHost() == null) {
      throw new IllegalArgumentException(
          "ephemera.gitlab.url must be an http(s) URL such as https://gitlab.example.com, was "
              + url);
    }
    if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new IllegalArgumentException(
          "ephemera.gitlab.url must hold no query or fragment: give the base URL only, was " + url);
    }
    String s = url;
    while (s.endsWith("/")) {
      s = s.substring(0, s.length() - 1);
    }
    if (s.endsWith("/api/v4")) {
      // A common mistake; the adapter appends it itself.
      s = s.substring(0, s.length() - "/api/v4".length());
    }
    return s;
  }

  private static Duration positive(String name, Duration value, Duration fallback) {
    Duration d = value == null ? fallback : value;
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("ephemera.gitlab." + name + " must be positive");
    }
    return d;
  }
}
