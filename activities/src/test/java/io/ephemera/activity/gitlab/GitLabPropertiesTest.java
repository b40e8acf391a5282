package io.ephemera.activity.gitlab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

class GitLabPropertiesTest {

  @Test
  void anEmptyConfigurationMeansNoGitLab() {
    GitLabProperties p = bind(Map.of());

    assertThat(p.configured()).isFalse();
    assertThat(p.token()).isNull();
    assertThat(p.requestTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(p.jobTagsTimeout()).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void theApiKeysBindBesideTheWebhookKeysOfTheApiModule() {
    GitLabProperties p =
        bind(
            Map.of(
                "ephemera.gitlab.url", "https://gitlab.example.com/",
                "ephemera.gitlab.token", "glpat-secret-value",
                "ephemera.gitlab.request-timeout", "3s",
                // The api module's record binds these; this one must ignore them.
                "ephemera.gitlab.webhook-token", "hook-secret",
                "ephemera.gitlab.max-payload", "1MB"));

    assertThat(p.url()).isEqualTo("https://gitlab.example.com");
    assertThat(p.apiRoot()).isEqualTo(URI.create("https://gitlab.example.com/api/v4"));
    assertThat(p.token()).isEqualTo("glpat-secret-value");
    assertThat(p.requestTimeout()).isEqualTo(Duration.ofSeconds(3));
  }

  @Test
  void aUrlEndingInApiV4IsTakenAsTheBaseUrl() {
    assertThat(GitLabProperties.of("https://example.com/gitlab/api/v4/", "t").apiRoot())
        .isEqualTo(URI.create("https://example.com/gitlab/api/v4"));
  }

  @Test
  void theTokenIsNeverPrinted() {
    GitLabProperties p = GitLabProperties.of("https://gitlab.example.com", "glpat-secret-value");

    assertThat(p.toString()).doesNotContain("glpat-secret-value").contains("token=(set)");
  }

  @Test
  void aUrlWithCredentialsIsRefusedWithoutRepeatingThem() {
    assertThatThrownBy(
            () -> bind(Map.of("ephemera.gitlab.url", "https://me:hunter2@gitlab.example.com")))
        .isInstanceOf(BindException.class)
        .hasStackTraceContaining("must not hold credentials")
        .satisfies(e -> assertThat(stackTrace(e)).doesNotContain("hunter2"));
  }

  @Test
  void aUrlWithoutSchemeFailsAtStartUp() {
    assertThatThrownBy(() -> bind(Map.of("ephemera.gitlab.url", "gitlab.example.com")))
        .isInstanceOf(BindException.class)
        .hasStackTraceContaining("must be an http(s) URL");
  }

  @Test
  void aClientNeedsAToken() {
    assertThatThrownBy(
            () -> new GitLabClient(GitLabProperties.of("https://gitlab.example.com", null)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("ephemera.gitlab.token");
  }

  private static String stackTrace(Throwable t) {
    java.io.StringWriter w = new java.io.StringWriter();
    t.printStackTrace(new java.io.PrintWriter(w));
    return w.toString();
  }

  private static GitLabProperties bind(Map<String, String> properties) {
    return new Binder(new MapConfigurationPropertySource(properties))
        .bindOrCreate("ephemera.gitlab", GitLabProperties.class);
  }
}
