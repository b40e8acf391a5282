package io.ephemera.activity.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Image references, Docker config files, log scrubbing and the properties' defaults. */
class BuildPartsTest {

  @Test
  void imageReferencesSplitAsTheDistributionSpecReadsThem() {
    assertThat(ImageRef.parse("registry.example.com:5000/group/app:abc"))
        .isEqualTo(new ImageRef("registry.example.com:5000", "group/app", "abc"));
    assertThat(ImageRef.parse("localhost/app:1")).isEqualTo(new ImageRef("localhost", "app", "1"));
    ImageRef hub = ImageRef.parse("nginx:1.27");
    assertThat(hub).isEqualTo(new ImageRef("docker.io", "library/nginx", "1.27"));
    assertThat(hub.apiHost()).isEqualTo("registry-1.docker.io");
    assertThat(ImageRef.parse("acme/app:v1").repository()).isEqualTo("acme/app");
    assertThatThrownBy(() -> ImageRef.parse("registry.example.com/app"))
        .hasMessageContaining("no tag");
    assertThatThrownBy(() -> ImageRef.parse("registry.example.com:5000/app"))
        .hasMessageContaining("no tag");
    assertThatThrownBy(() -> ImageRef.parse("r.example.com/app@sha256:abc"))
        .hasMessageContaining("digest");
    assertThatThrownBy(() -> ImageRef.parse("r.example.com/App:1"))
        .hasMessageContaining("not valid");
  }

  @Test
  void dockerConfigLoginsAreFoundByRegistryHost() {
    String auth = Base64.getEncoder().encodeToString("u1:p:w1".getBytes(StandardCharsets.UTF_8));
    DockerConfig config =
        DockerConfig.parse(
            ("{\"auths\":{"
                    + "\"https://registry.example.com/v1/\":{\"auth\":\""
                    + auth
                    + "\"},"
                    + "\"https://index.docker.io/v1/\":{\"username\":\"hub\",\"password\":\"hubpw\"},"
                    + "\"ghcr.io\":{\"registrytoken\":\"tok\"}}}")
                .getBytes(StandardCharsets.UTF_8));

    assertThat(config.loginFor("registry.example.com"))
        .hasValueSatisfying(
            l -> {
              assertThat(l.username()).isEqualTo("u1");
              assertThat(l.password()).isEqualTo("p:w1");
            });
    assertThat(config.loginFor("docker.io"))
        .hasValueSatisfying(l -> assertThat(l.username()).isEqualTo("hub"));
    assertThat(config.loginFor("ghcr.io"))
        .hasValueSatisfying(l -> assertThat(l.registryToken()).isEqualTo("tok"));
    assertThat(config.loginFor("other.example.com")).isEmpty();
    assertThat(config.toString()).doesNotContain("p:w1").doesNotContain("hubpw");
    assertThat(config.secretValues()).contains("p:w1", "hubpw", "tok");
    assertThatThrownBy(() -> DockerConfig.parse("not json".getBytes(StandardCharsets.UTF_8)))
        .hasMessage("the registry credential is not valid JSON");
  }

  @Test
  void scrubbingRemovesEverySecretValueFromALog() {
    assertThat(
            KanikoBuilder.scrub(
                "push as robot with secret-1234 and secret-12345",
                List.of("secret-1234", "secret-12345")))
        .isEqualTo("push as robot with [redacted] and [redacted]");
    // Values too short to be a credential would blank ordinary words.
    assertThat(KanikoBuilder.scrub("a b c", List.of("a"))).isEqualTo("a b c");
  }

  @Test
  void anEmptyConfigurationIsAWorkingOne() {
    BuildProperties p = BuildProperties.defaults();
    assertThat(p.executorImage()).isEqualTo("ghcr.io/osscontainertools/kaniko:v1.28.3");
    assertThat(p.context().ref()).isEqualTo("refs/merge-requests/{iid}/head");
    assertThat(p.context().dockerfile()).isEqualTo("Dockerfile");
    assertThat(p.cache().enabled()).isTrue();
    assertThat(p.cache().ttl()).isEqualTo(Duration.ofDays(7));
    assertThat(p.activeDeadlineSeconds()).isEqualTo(1800);
    assertThat(p.ttlSecondsAfterFinished()).isEqualTo(3600);
    assertThat(p.waitBudget()).isEqualTo(Duration.ofMinutes(5));
    assertThat(p.pollInterval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(p.logTailLines()).isEqualTo(50);
    assertThat(p.registry().scheme()).isEqualTo("https");
    assertThat(p.resources().limitsMemory()).isEqualTo("4Gi");
    // Without a GitLab URL nothing can be cloned: refused when the builder is made.
    assertThatThrownBy(() -> new KanikoJobSpec(p)).hasMessageContaining("context.git-url");
  }

  @Test
  void badSettingsFailAtStartUpNamingTheProperty() {
    assertThatThrownBy(() -> new BuildProperties.Registry("ftp", null))
        .hasMessageContaining("ephemera.build.registry.scheme");
    assertThatThrownBy(() -> new BuildProperties.Resources("lots", null, null, null))
        .hasMessageContaining("ephemera.build.resources.requests-cpu");
    assertThatThrownBy(
            () -> new BuildProperties.Context(java.net.URI.create("ssh://git@x"), null, null, null))
        .hasMessageContaining("ephemera.build.context.git-url");
    assertThatThrownBy(
            () ->
                new BuildProperties(
                    null,
                    null,
                    null,
                    List.of("cache=false"),
                    null,
                    0,
                    0,
                    null,
                    null,
                    0,
                    null,
                    null,
                    null))
        .hasMessageContaining("ephemera.build.extra-args");
    assertThatThrownBy(
            () ->
                new BuildProperties(
                    null, null, null, null, null, 0, 0, Duration.ZERO, null, 0, null, null, null))
        .hasMessageContaining("ephemera.build.wait-budget");
    assertThatThrownBy(
            () ->
                new BuildProperties(
                    null, null, null, null, null, 0, 0, null, null, 5000, null, null, null))
        .hasMessageContaining("ephemera.build.log-tail-lines");
  }
}
