package io.ephemera.activity.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

class KubernetesPropertiesTest {

  @Test
  void anEmptyConfigurationGivesEveryDefault() {
    KubernetesProperties p = bind(Map.of());

    assertThat(p).isEqualTo(KubernetesProperties.defaults());
    assertThat(p.sandbox()).isFalse();
    assertThat(p.ingressNamespace()).isEqualTo("ingress-nginx");
    assertThat(p.ingressClassName()).isEqualTo("nginx");
    assertThat(p.tls()).isEqualTo(new KubernetesProperties.Tls(true, "review-apps-tls", null));
    assertThat(p.containerPort()).isEqualTo(8080);
    assertThat(p.replicas()).isEqualTo(1);
    assertThat(p.quota()).isEqualTo(new KubernetesProperties.Quota("2", "4Gi", "4", "8Gi", "20"));
    assertThat(p.limits())
        .isEqualTo(new KubernetesProperties.Limits("100m", "128Mi", "500m", "512Mi"));
    assertThat(p.rolloutPollInterval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(p.rolloutWaitBudget()).isEqualTo(Duration.ofMinutes(5));
    assertThat(p.namespaceWaitBudget()).isEqualTo(Duration.ofMinutes(1));
    assertThat(p.namespacePollInterval()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void settingOneNestedValueKeepsTheOtherDefaults() {
    KubernetesProperties p =
        bind(
            Map.of(
                "ephemera.kubernetes.sandbox", "true",
                "ephemera.kubernetes.tls.cluster-issuer", "letsencrypt",
                "ephemera.kubernetes.quota.pods", "5",
                "ephemera.kubernetes.rollout-wait-budget", "90s"));

    assertThat(p.sandbox()).isTrue();
    assertThat(p.tls())
        .isEqualTo(new KubernetesProperties.Tls(true, "review-apps-tls", "letsencrypt"));
    assertThat(p.quota().pods()).isEqualTo("5");
    assertThat(p.quota().limitsMemory()).isEqualTo("8Gi");
    assertThat(p.rolloutWaitBudget()).isEqualTo(Duration.ofSeconds(90));
  }

  @Test
  void aBlankClusterIssuerMeansNone() {
    assertThat(new KubernetesProperties.Tls(true, " ", " ").clusterIssuer()).isNull();
  }

  @Test
  void aQuantityTypoFailsAtStartUp() {
    assertThatThrownBy(() -> bind(Map.of("ephemera.kubernetes.quota.limits-memory", "8 GB")))
        .isInstanceOf(BindException.class)
        .hasStackTraceContaining(
            "ephemera.kubernetes.quota.limits-memory is not a Kubernetes quantity: 8 GB");
  }

  @Test
  void aZeroDurationFailsAtStartUp() {
    assertThatThrownBy(() -> bind(Map.of("ephemera.kubernetes.rollout-poll-interval", "0s")))
        .isInstanceOf(BindException.class)
        .hasStackTraceContaining("ephemera.kubernetes.rollout-poll-interval must be positive");
  }

  private static KubernetesProperties bind(Map<String, String> properties) {
    return new Binder(new MapConfigurationPropertySource(properties))
        .bindOrCreate("ephemera.kubernetes", KubernetesProperties.class);
  }
}
