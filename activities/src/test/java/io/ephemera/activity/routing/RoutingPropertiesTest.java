package io.ephemera.activity.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ephemera.runner.RunnerRoute;
import io.ephemera.runner.RunnerType;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

class RoutingPropertiesTest {

  @Test
  void anEmptyConfigurationServesEveryProjectWithNoRoute() {
    RoutingProperties p = bind(Map.of());

    assertThat(p).isEqualTo(RoutingProperties.defaults());
    assertThat(p.source()).isEqualTo(RoutingProperties.Source.YAML);
    assertThat(p.projects()).isEmpty();
    assertThat(p.rules()).isEmpty();
    assertThat(p.defaultRunnerRoute()).isEmpty();
    assertThat(p.file()).isNull();
    assertThat(p.dynamodb().table()).isEqualTo("ephemera-runner-routes");
    assertThat(p.dynamodb().endpoint()).isNull();
    assertThat(p.dynamodb().region()).isNull();
    assertThat(p.dynamodb().cacheSize()).isEqualTo(1000);
    assertThat(p.cacheTtl()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void rulesBindFromYamlShapedKeys() {
    RoutingProperties p =
        bind(
            Map.ofEntries(
                Map.entry("ephemera.runners.routing.projects", "42,43"),
                Map.entry("ephemera.runners.routing.rules[0].job-name", "build-*"),
                Map.entry("ephemera.runners.routing.rules[0].tags[0]", "docker"),
                Map.entry("ephemera.runners.routing.rules[0].tags[1]", "large"),
                Map.entry("ephemera.runners.routing.rules[0].route.name", "docker-build"),
                Map.entry("ephemera.runners.routing.rules[0].route.type", "ec2"),
                Map.entry("ephemera.runners.routing.rules[0].route.instance-type", "c7i.large"),
                Map.entry("ephemera.runners.routing.rules[0].route.ami", "ami-0123"),
                Map.entry("ephemera.runners.routing.rules[0].route.max-lifetime", "2h"),
                Map.entry("ephemera.runners.routing.rules[1].tags[0]", "gpu"),
                Map.entry("ephemera.runners.routing.rules[1].route.type", "KUBERNETES"),
                Map.entry("ephemera.runners.routing.rules[1].route.cpu", "2"),
                Map.entry("ephemera.runners.routing.rules[1].route.memory", "8Gi"),
                Map.entry(
                    "ephemera.runners.routing.rules[1].route.image", "gitlab/gitlab-runner:v18"),
                Map.entry("ephemera.runners.routing.default-route.type", "kubernetes"),
                Map.entry("ephemera.runners.routing.default-route.cpu", "500m")));

    assertThat(p.projects()).containsExactlyInAnyOrder(42L, 43L);
    List<RouteRule> rules = p.routeRules();
    assertThat(rules).hasSize(2);
    assertThat(rules.get(0).jobNamePattern()).isEqualTo("build-*");
    assertThat(rules.get(0).tags()).containsExactly("docker", "large");
    assertThat(rules.get(0).route())
        .isEqualTo(
            new RunnerRoute(
                "docker-build",
                RunnerType.EC2,
                null,
                null,
                "c7i.large",
                null,
                "ami-0123",
                Duration.ofHours(2)));
    assertThat(rules.get(1).jobNamePattern()).isNull();
    assertThat(rules.get(1).route())
        .isEqualTo(
            new RunnerRoute(
                "* gpu",
                RunnerType.KUBERNETES,
                "2",
                "8Gi",
                null,
                "gitlab/gitlab-runner:v18",
                null,
                null));
    assertThat(p.defaultRunnerRoute())
        .contains(
            new RunnerRoute(
                "default", RunnerType.KUBERNETES, "500m", null, null, null, null, null));
  }

  @Test
  void theDynamoDbSourceBindsItsTableEndpointAndCache() {
    RoutingProperties p =
        bind(
            Map.of(
                "ephemera.runners.routing.source", "dynamodb",
                "ephemera.runners.routing.dynamodb.table", "routes",
                "ephemera.runners.routing.dynamodb.endpoint", "http://127.0.0.1:8000",
                "ephemera.runners.routing.dynamodb.region", "eu-west-1",
                "ephemera.runners.routing.cache-ttl", "5s"));

    assertThat(p.source()).isEqualTo(RoutingProperties.Source.DYNAMODB);
    assertThat(p.dynamodb())
        .isEqualTo(
            new RoutingProperties.DynamoDb(
                "routes", URI.create("http://127.0.0.1:8000"), "eu-west-1", 1000));
    assertThat(p.cacheTtl()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void aRouteWithoutTypeFailsAtStartUpNamingTheKey() {
    assertThatThrownBy(() -> bind(Map.of("ephemera.runners.routing.rules[0].route.cpu", "1")))
        .isInstanceOf(BindException.class)
        .hasStackTraceContaining("ephemera.runners.routing.rules[0].route.type is required");
  }

  @Test
  void aRuleWithoutRouteFailsAtStartUp() {
    assertThatThrownBy(() -> bind(Map.of("ephemera.runners.routing.rules[0].job-name", "x")))
        .isInstanceOf(BindException.class)
        .hasStackTraceContaining("ephemera.runners.routing.rules[0].route is required");
  }

  @Test
  void aQuantityTypoFailsAtStartUp() {
    assertThatThrownBy(
            () ->
                bind(
                    Map.of(
                        "ephemera.runners.routing.default-route.type", "KUBERNETES",
                        "ephemera.runners.routing.default-route.memory", "8 GB")))
        .isInstanceOf(BindException.class)
        .hasStackTraceContaining(
            "ephemera.runners.routing.default-route.memory is not a Kubernetes quantity: 8 GB");
  }

  @Test
  void anUnknownRunnerTypeFailsAtStartUp() {
    assertThatThrownBy(() -> bind(Map.of("ephemera.runners.routing.default-route.type", "LAMBDA")))
        .isInstanceOf(BindException.class);
  }

  static RoutingProperties bind(Map<String, String> properties) {
    return new Binder(new MapConfigurationPropertySource(properties))
        .bindOrCreate("ephemera.runners.routing", RoutingProperties.class);
  }
}
