package io.ephemera.activity.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.ephemera.runner.RunnerRoute;
import io.ephemera.runner.RunnerType;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class RouteTableTest {
  static final RunnerRoute SMALL_POD = pod("small", "500m", "1Gi");
  static final RunnerRoute BIG_POD = pod("big", "4", "8Gi");
  static final RunnerRoute DOCKER_VM =
      new RunnerRoute("docker", RunnerType.EC2, null, null, "c7i.large", null, "ami-0123", null);

  @Test
  void aGlobMatchesTheWholeJobName() {
    assertThat(RouteRule.glob("build-*", "build-linux")).isTrue();
    assertThat(RouteRule.glob("build-*", "build-")).isTrue();
    assertThat(RouteRule.glob("build-*", "test-build-linux")).isFalse();
    assertThat(RouteRule.glob("*-linux", "build-linux")).isTrue();
    assertThat(RouteRule.glob("b?ild", "build")).isTrue();
    assertThat(RouteRule.glob("b?ild", "bild")).isFalse();
    assertThat(RouteRule.glob("*test*", "unit test: api")).isTrue();
    assertThat(RouteRule.glob("Build", "build")).isFalse();
    assertThat(RouteRule.glob("*", "")).isTrue();
    assertThat(RouteRule.glob("a*b*c", "aXbYbZc")).isTrue();
    assertThat(RouteRule.glob("a*b*c", "aXbYbZ")).isFalse();
  }

  @Test
  void aRuleNeedsTheJobToCarryAllItsTagsAndNoMore() {
    RouteRule rule = new RouteRule(null, List.of("docker", " large "), DOCKER_VM);

    assertThat(rule.tags()).containsExactly("docker", "large");
    assertThat(rule.matches("anything", List.of("large", "docker", "x86"))).isTrue();
    assertThat(rule.matches("anything", List.of("docker"))).isFalse();
    assertThat(rule.matches("anything", List.of())).isFalse();
    assertThat(rule.matches("anything", null)).isFalse();
  }

  @Test
  void aRuleWithNeitherPatternNorTagsMatchesEveryJob() {
    RouteRule rule = new RouteRule(" ", List.of(), SMALL_POD);

    assertThat(rule.jobNamePattern()).isNull();
    assertThat(rule.matches("x", List.of("y"))).isTrue();
    assertThat(rule.matches(null, null)).isTrue();
  }

  @Test
  void theFirstMatchingRuleWins() {
    RouteTable table =
        new RouteTable(
            List.of(
                new RouteRule("build-*", List.of("docker"), DOCKER_VM),
                new RouteRule("build-*", List.of(), BIG_POD),
                new RouteRule(null, List.of("docker"), SMALL_POD)),
            null);

    assertThat(table.route("build-app", List.of("docker"))).contains(DOCKER_VM);
    assertThat(table.route("build-app", List.of())).contains(BIG_POD);
    assertThat(table.route("test", List.of("docker"))).contains(SMALL_POD);
  }

  @Test
  void aJobNoRuleMatchesGetsTheDefaultRoute() {
    RouteTable table =
        new RouteTable(List.of(new RouteRule("build-*", List.of(), BIG_POD)), SMALL_POD);

    assertThat(table.route("lint", List.of())).contains(SMALL_POD);
  }

  @Test
  void withoutADefaultAJobNoRuleMatchesHasNoRoute() {
    RouteTable table = new RouteTable(List.of(new RouteRule("build-*", List.of(), BIG_POD)), null);

    assertThat(table.route("lint", List.of())).isEmpty();
    assertThat(RouteTable.empty().route("build", List.of())).isEmpty();
  }

  static RunnerRoute pod(String name, String cpu, String memory) {
    return new RunnerRoute(
        name, RunnerType.KUBERNETES, cpu, memory, null, null, null, Duration.ofHours(1));
  }
}
