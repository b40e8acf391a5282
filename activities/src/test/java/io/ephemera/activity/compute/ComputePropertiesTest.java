package io.ephemera.activity.compute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/**
 * {@code ephemera.runners.kubernetes.*} and {@code ephemera.runners.ec2.*} as Spring binds them.
 */
class ComputePropertiesTest {

  @Test
  void anEmptyPodConfigurationGivesEveryDefault() {
    RunnerPodProperties p = pods(Map.of());

    assertThat(p).isEqualTo(RunnerPodProperties.defaults());
    assertThat(p.namespace()).isEqualTo("ephemera-runners");
    assertThat(p.image()).isEqualTo("gitlab/gitlab-runner:alpine-v17.11.0");
    assertThat(p.executor()).isEqualTo("shell");
    assertThat(p.cpu()).isEqualTo("1");
    assertThat(p.memory()).isEqualTo("2Gi");
    assertThat(p.runAsUser()).isEqualTo(1000);
    assertThat(p.gitlabUrl()).isNull();
    assertThat(p.waitBudget()).isEqualTo(Duration.ofMinutes(1));
    assertThat(p.pollInterval()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void podSettingsBindFromKebabCase() {
    RunnerPodProperties p =
        pods(
            Map.of(
                "ephemera.runners.kubernetes.namespace", "ci-runners",
                "ephemera.runners.kubernetes.gitlab-url", "http://gitlab.gitlab.svc:8080",
                "ephemera.runners.kubernetes.memory", "512Mi",
                "ephemera.runners.kubernetes.run-as-user", "999",
                "ephemera.runners.kubernetes.wait-budget", "2m"));

    assertThat(p.namespace()).isEqualTo("ci-runners");
    assertThat(p.gitlabUrl()).isEqualTo(URI.create("http://gitlab.gitlab.svc:8080"));
    assertThat(p.memory()).isEqualTo("512Mi");
    assertThat(p.runAsUser()).isEqualTo(999);
    assertThat(p.waitBudget()).isEqualTo(Duration.ofMinutes(2));
  }

  @Test
  void badPodSettingsFailAtStartUpNamingTheProperty() {
    assertThatThrownBy(() -> pods(Map.of("ephemera.runners.kubernetes.namespace", "CI_Runners")))
        .isInstanceOf(BindException.class)
        .hasRootCauseMessage(
            "ephemera.runners.kubernetes.namespace must be a DNS-1123 label, was 'CI_Runners'");
    assertThatThrownBy(() -> pods(Map.of("ephemera.runners.kubernetes.cpu", "two")))
        .hasRootCauseMessage("ephemera.runners.kubernetes.cpu is not a Kubernetes quantity: two");
    assertThatThrownBy(() -> pods(Map.of("ephemera.runners.kubernetes.run-as-user", "-1")))
        .rootCause()
        .hasMessageContaining("non-root");
    assertThatThrownBy(() -> pods(Map.of("ephemera.runners.kubernetes.executor", "shell; rm")))
        .rootCause()
        .hasMessageContaining("executor");
  }

  @Test
  void aGitlabUrlWithCredentialsIsRefusedWithoutEchoingThem() {
    assertThatThrownBy(
            () ->
                pods(
                    Map.of(
                        "ephemera.runners.kubernetes.gitlab-url",
                        "https://root:hunter2@gitlab.example.com")))
        .rootCause()
        .hasMessageContaining("must not carry user info")
        .message()
        .doesNotContain("hunter2");
  }

  @Test
  void anEmptyEc2ConfigurationGivesEveryDefault() {
    Ec2RunnerProperties p = ec2(Map.of());

    assertThat(p).isEqualTo(Ec2RunnerProperties.defaults());
    assertThat(p.region()).isNull();
    assertThat(p.endpointOverride()).isNull();
    assertThat(p.securityGroupIds()).isEmpty();
    assertThat(p.defaultInstanceType()).isEqualTo("t3.medium");
    assertThat(p.defaultAmi()).isNull();
    assertThat(p.parameterPrefix()).isEqualTo("/ephemera/runners");
    assertThat(p.executor()).isEqualTo("shell");
    assertThat(p.waitBudget()).isEqualTo(Duration.ofMinutes(5));
    assertThat(p.pollInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(p.maxApiAttempts()).isEqualTo(3);
  }

  @Test
  void ec2SettingsBindFromKebabCase() {
    Ec2RunnerProperties p =
        ec2(
            Map.of(
                "ephemera.runners.ec2.region", "eu-west-1",
                "ephemera.runners.ec2.subnet-id", "subnet-0abc1234def567890",
                "ephemera.runners.ec2.security-group-ids[0]", "sg-0abc1234def567890",
                "ephemera.runners.ec2.security-group-ids[1]", "sg-0123456789abcdef0",
                "ephemera.runners.ec2.instance-profile",
                    "arn:aws:iam::123456789012:instance-profile/ci/ephemera-runner",
                "ephemera.runners.ec2.default-ami", "runner-template",
                "ephemera.runners.ec2.kms-key-id", "alias/ephemera",
                "ephemera.runners.ec2.endpoint-override", "http://127.0.0.1:4566"));

    assertThat(p.region()).isEqualTo("eu-west-1");
    assertThat(p.securityGroupIds())
        .isEqualTo(List.of("sg-0abc1234def567890", "sg-0123456789abcdef0"));
    assertThat(p.instanceProfile()).endsWith("/ci/ephemera-runner");
    assertThat(p.defaultAmi()).isEqualTo("runner-template");
    assertThat(p.endpointOverride()).isEqualTo(URI.create("http://127.0.0.1:4566"));
  }

  @Test
  void badEc2SettingsFailAtStartUpNamingTheProperty() {
    assertThatThrownBy(() -> ec2(Map.of("ephemera.runners.ec2.region", "Ireland")))
        .rootCause()
        .hasMessageContaining("ephemera.runners.ec2.region");
    assertThatThrownBy(() -> ec2(Map.of("ephemera.runners.ec2.subnet-id", "net-1")))
        .rootCause()
        .hasMessageContaining("ephemera.runners.ec2.subnet-id");
    assertThatThrownBy(() -> ec2(Map.of("ephemera.runners.ec2.security-group-ids", "default")))
        .rootCause()
        .hasMessageContaining("ephemera.runners.ec2.security-group-ids");
    assertThatThrownBy(() -> ec2(Map.of("ephemera.runners.ec2.default-ami", "ami-XYZ")))
        .rootCause()
        .hasMessageContaining("ephemera.runners.ec2.default-ami");
    assertThatThrownBy(() -> ec2(Map.of("ephemera.runners.ec2.parameter-prefix", "ephemera")))
        .rootCause()
        .hasMessageContaining("ephemera.runners.ec2.parameter-prefix");
    assertThatThrownBy(() -> ec2(Map.of("ephemera.runners.ec2.max-api-attempts", "50")))
        .rootCause()
        .hasMessageContaining("ephemera.runners.ec2.max-api-attempts");
    assertThatThrownBy(() -> ec2(Map.of("ephemera.runners.ec2.poll-interval", "0s")))
        .rootCause()
        .hasMessageContaining("ephemera.runners.ec2.poll-interval must be positive");
  }

  private static RunnerPodProperties pods(Map<String, String> properties) {
    return new Binder(new MapConfigurationPropertySource(properties))
        .bindOrCreate("ephemera.runners.kubernetes", RunnerPodProperties.class);
  }

  private static Ec2RunnerProperties ec2(Map<String, String> properties) {
    return new Binder(new MapConfigurationPropertySource(properties))
        .bindOrCreate("ephemera.runners.ec2", Ec2RunnerProperties.class);
  }
}
