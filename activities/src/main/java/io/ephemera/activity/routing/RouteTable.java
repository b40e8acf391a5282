package io.ephemera.activity.routing;

import io.ephemera.runner.RunnerRoute;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * An ordered list of rules: the first rule that matches a job decides its route; when none does,
 * the default route, or no route at all (the job is not Ephemera's to serve). Pure and immutable.
 */
public final class RouteTable implements RouteSource {
  private final List<RouteRule> rules;
  private final RunnerRoute defaultRoute;

  /**
   * @param rules in priority order
   * @param defaultRoute the route of jobs no rule matches, or {@code null} to ignore them
   */
  public RouteTable(List<RouteRule> rules, RunnerRoute defaultRoute) {
    this.rules = rules == null ? List.of() : List.copyOf(rules);
    this.defaultRoute = defaultRoute;
  }

  public static RouteTable empty() {
    return new RouteTable(List.of(), null);
  }

  @Override
  public Optional<RunnerRoute> route(String jobName, Collection<String> tags) {
    for (RouteRule rule : rules) {
      if (rule.matches(jobName, tags)) {
        return Optional.of(rule.route());
      }
    }
    return Optional.ofNullable(defaultRoute);
  }

  public List<RouteRule> rules() {
    return rules;
  }

  public Optional<RunnerRoute> defaultRoute() {
    return Optional.ofNullable(defaultRoute);
  }

  @Override
  public String toString() {
    return "RouteTable[" + rules.size() + " rules, default=" + defaultRoute + "]";
  }
}
