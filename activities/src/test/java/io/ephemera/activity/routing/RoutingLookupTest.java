package io.ephemera.activity.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ephemera.runner.RunnerRoute;
import io.ephemera.runner.RunnerType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RoutingLookupTest {
  static final RunnerRoute POD = RouteTableTest.pod("pod", "1", "2Gi");

  @TempDir Path dir;

  @Test
  void onlyConfiguredProjectsAreServed() {
    RoutingLookup lookup = new RoutingLookup(Set.of(42L), (name, tags) -> Optional.of(POD), null);

    assertThat(lookup.servesProject(42)).isTrue();
    assertThat(lookup.servesProject(43)).isFalse();
    assertThat(lookup.route(42, "build", List.of())).contains(POD);
    assertThat(lookup.route(43, "build", List.of())).isEmpty();
  }

  @Test
  void noConfiguredProjectsServesEveryProject() {
    RoutingLookup lookup = new RoutingLookup(Set.of(), (name, tags) -> Optional.of(POD), null);

    assertThat(lookup.servesProject(7)).isTrue();
  }

  @Test
  void theFallbackRouteCoversJobsTheSourceHasNoRouteFor() {
    RoutingLookup lookup = new RoutingLookup(Set.of(), (name, tags) -> Optional.empty(), POD);

    assertThat(lookup.route(1, "build", null)).contains(POD);
  }

  @Test
  void yamlRoutingUsesTheInlineRulesThenTheFileRules() throws IOException {
    Path file =
        write(
            """
            rules:
              - job-name: "build-*"
                tags: [docker]
                route:
                  name: docker-vm
                  type: ec2
                  instanceType: c7i.large   # camelCase binds as well as kebab-case
                  ami: ami-0123
                  max-lifetime: 90m
              - tags: [docker]
                route: {type: KUBERNETES, cpu: "2", memory: 4Gi}
            default-route:
              type: KUBERNETES
              name: file-default
            """);
    RoutingProperties props =
        RoutingPropertiesTest.bind(
            Map.of(
                "ephemera.runners.routing.rules[0].job-name", "build-special",
                "ephemera.runners.routing.rules[0].route.type", "KUBERNETES",
                "ephemera.runners.routing.rules[0].route.name", "special",
                "ephemera.runners.routing.file", file.toString()));

    RoutingLookup lookup = RoutingLookup.fromYaml(props);

    assertThat(lookup.route(1, "build-special", List.of("docker")).map(RunnerRoute::name))
        .contains("special");
    assertThat(lookup.route(1, "build-app", List.of("docker")))
        .contains(
            new RunnerRoute(
                "docker-vm",
                RunnerType.EC2,
                null,
                null,
                "c7i.large",
                null,
                "ami-0123",
                Duration.ofMinutes(90)));
    assertThat(lookup.route(1, "test", List.of("docker")).map(RunnerRoute::cpu)).contains("2");
    assertThat(lookup.route(1, "test", List.of()).map(RunnerRoute::name)).contains("file-default");
  }

  @Test
  void theInlineDefaultRouteWinsOverTheFiles() throws IOException {
    Path file = write("default-route: {type: EC2, name: file-default}\n");
    RoutingProperties props =
        RoutingPropertiesTest.bind(
            Map.of(
                "ephemera.runners.routing.default-route.type",
                "KUBERNETES",
                "ephemera.runners.routing.file",
                file.toString()));

    assertThat(RoutingLookup.fromYaml(props).route(1, "x", List.of()).map(RunnerRoute::type))
        .contains(RunnerType.KUBERNETES);
  }

  @Test
  void aBrokenRoutingFileFailsAtStartUpNamingTheFile() throws IOException {
    Path file = write("rules:\n  - job-name: build\n    route: {cpu: \"1\"}\n");
    RoutingProperties props =
        RoutingPropertiesTest.bind(Map.of("ephemera.runners.routing.file", file.toString()));

    assertThatThrownBy(() -> RoutingLookup.fromYaml(props))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining("rules[0].route.type is required");
  }

  @Test
  void aMissingRoutingFileFailsAtStartUp() {
    RoutingProperties props =
        RoutingPropertiesTest.bind(
            Map.of("ephemera.runners.routing.file", dir.resolve("nope.yaml").toString()));

    assertThatThrownBy(() -> RoutingLookup.fromYaml(props))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("Cannot read the routing file");
  }

  @Test
  void anEmptyRoutingFileAddsNothing() throws IOException {
    RoutingProperties props =
        RoutingPropertiesTest.bind(Map.of("ephemera.runners.routing.file", write("").toString()));

    assertThat(RoutingLookup.fromYaml(props).route(1, "x", List.of())).isEmpty();
  }

  private Path write(String yaml) throws IOException {
    Path file = Files.createTempFile(dir, "routes", ".yaml");
    Files.writeString(file, yaml);
    return file;
  }
}
