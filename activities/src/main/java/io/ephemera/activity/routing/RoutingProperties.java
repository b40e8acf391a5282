package io.ephemera.activity.routing;

import io.ephemera.runner.RunnerRoute;
import io.ephemera.runner.RunnerType;
import io.fabric8.kubernetes.api.model.Quantity;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code ephemera.runners.routing.*}: which runner a pending job gets. {@code null} stands for
 * "unset" everywhere, so the record is as easy to build by hand as by Spring; every route is
 * validated here, so a typo fails the start-up instead of every webhook.
 *
 * <pre>
 * ephemera.runners.routing:
 *   projects: [42, 43]            # empty: every project
 *   default-route: {type: KUBERNETES, cpu: "1", memory: 2Gi}
 *   rules:
 *     - job-name: "build-*"
 *       tags: [docker]
 *       route: {name: docker-build, type: EC2, instance-type: c7i.large, ami: ami-0123, max-lifetime: 2h}
 * </pre>
 *
 * @param source where the rules live: {@code yaml} (the rules here and in {@code file}) or {@code
 *     dynamodb} (the table {@code dynamodb.table})
 * @param projects GitLab project ids Ephemera serves; empty serves every project
 * @param defaultRoute the route of a job no rule matches; unset ignores such jobs
 * @param rules ordered rules (first match wins), for {@code source=yaml}
 * @param file an optional YAML file with more rules in the same shape ({@code rules:} and
 *     optionally {@code default-route:}); its rules come after the inline ones, and its default
 *     route applies only when none is configured inline
 * @param dynamodb the DynamoDB table, for {@code source=dynamodb}
 * @param cacheTtl how long a DynamoDB answer is reused
 */
@ConfigurationProperties("ephemera.runners.routing")
public record RoutingProperties(
    Source source,
    Set<Long> projects,
    Route defaultRoute,
    List<Rule> rules,
    String file,
    DynamoDb dynamodb,
    Duration cacheTtl) {

  static final String PREFIX = "ephemera.runners.routing.";

  public RoutingProperties {
    source = source == null ? Source.YAML : source;
    projects = projects == null ? Set.of() : Set.copyOf(projects);
    rules = rules == null ? List.of() : List.copyOf(rules);
    file = file == null || file.isBlank() ? null : file.trim();
    dynamodb = dynamodb == null ? DynamoDb.DEFAULT : dynamodb;
    // Thirty seconds: a table edit takes effect quickly, and a burst of pending jobs (a pipeline
    // fanning out) costs one read per job name.
    cacheTtl = cacheTtl == null ? Duration.ofSeconds(30) : cacheTtl;
    if (cacheTtl.isNegative()) {
      throw new IllegalArgumentException(PREFIX + "cache-ttl must not be negative");
    }
    // Validate every route now: start-up is the moment to learn of a typo.
    routeRules(rules, PREFIX + "rules");
    defaultRunnerRoute(defaultRoute, PREFIX + "default-route");
  }

  /** Every default: YAML source, no rules, no default route, every project. */
  public static RoutingProperties defaults() {
    return new RoutingProperties(null, null, null, null, null, null, null);
  }

  /** The inline rules as route rules, in order. */
  public List<RouteRule> routeRules() {
    return routeRules(rules, PREFIX + "rules");
  }

  /** The inline default route, if configured. */
  public Optional<RunnerRoute> defaultRunnerRoute() {
    return Optional.ofNullable(defaultRunnerRoute(defaultRoute, PREFIX + "default-route"));
  }

  static List<RouteRule> routeRules(List<Rule> rules, String path) {
    List<RouteRule> result = new ArrayList<>();
    for (int i = 0; i < rules.size(); i++) {
      result.add(rules.get(i).toRouteRule(path + "[" + i + "]"));
    }
    return List.copyOf(result);
  }

  static RunnerRoute defaultRunnerRoute(Route route, String path) {
    return route == null ? null : route.toRunnerRoute(path, "default");
  }

  public enum Source {
    YAML,
    DYNAMODB
  }

  /**
   * One rule: a job-name glob and/or tags, and its route.
   *
   * @param jobName glob over the job name ({@code build-*}); unset matches every job
   * @param tags tags the job must all carry; empty matches every job
   * @param route the runner such jobs get
   */
  public record Rule(String jobName, List<String> tags, Route route) {
    public Rule {
      tags = tags == null ? List.of() : List.copyOf(tags);
    }

    RouteRule toRouteRule(String path) {
      if (route == null) {
        throw new IllegalArgumentException(path + ".route is required");
      }
      String fallbackName =
          (jobName == null ? "*" : jobName) + (tags.isEmpty() ? "" : " " + String.join(",", tags));
      return new RouteRule(jobName, tags, route.toRunnerRoute(path + ".route", fallbackName));
    }
  }

  /**
   * A route, as configured. See {@link RunnerRoute} for the meaning of each value.
   *
   * @param name for people; defaults to the rule's pattern and tags, or {@code default}
   * @param type {@code KUBERNETES} or {@code EC2}, required
   * @param cpu pod CPU (Kubernetes quantity), Kubernetes only
   * @param memory pod memory (Kubernetes quantity), Kubernetes only
   * @param instanceType EC2 instance type, EC2 only
   * @param image runner container image, Kubernetes only; unset uses the configured default
   * @param ami AMI id or launch template name, EC2 only
   * @param maxLifetime cap on the runner's life; unset uses {@code ephemera.runners.max-lifetime}
   */
  public record Route(
      String name,
      RunnerType type,
      String cpu,
      String memory,
      String instanceType,
      String image,
      String ami,
      Duration maxLifetime) {

    RunnerRoute toRunnerRoute(String path, String fallbackName) {
      if (type == null) {
        throw new IllegalArgumentException(
            path + ".type is required (" + RunnerType.KUBERNETES + " or " + RunnerType.EC2 + ")");
      }
      if (maxLifetime != null && (maxLifetime.isNegative() || maxLifetime.isZero())) {
        throw new IllegalArgumentException(path + ".max-lifetime must be positive");
      }
      String c = quantity(path + ".cpu", cpu);
      String m = quantity(path + ".memory", memory);
      return new RunnerRoute(
          blankToNull(name) == null ? fallbackName : name.trim(),
          type,
          c,
          m,
          blankToNull(instanceType),
          blankToNull(image),
          blankToNull(ami),
          maxLifetime);
    }
  }

  /**
   * The DynamoDB routing table.
   *
   * @param table table name
   * @param endpoint endpoint override (DynamoDB Local, a VPC endpoint); unset uses the region's
   * @param region AWS region; unset uses the SDK's default chain ({@code AWS_REGION}, profile, ...)
   * @param cacheSize job names whose routes are cached at most
   */
  public record DynamoDb(String table, URI endpoint, String region, Integer cacheSize) {
    static final DynamoDb DEFAULT = new DynamoDb(null, null, null, null);

    public DynamoDb {
      table = blankToNull(table) == null ? "ephemera-runner-routes" : table.trim();
      region = blankToNull(region);
      cacheSize = cacheSize == null ? 1000 : cacheSize;
      if (cacheSize < 1) {
        throw new IllegalArgumentException(PREFIX + "dynamodb.cache-size must be at least 1");
      }
    }
  }

  private static String quantity(String path, String value) {
    String q = blankToNull(value);
    if (q == null) {
      return null;
    }
    try {
      // Parsed now, so a typo is a start-up error rather than a pod the API server refuses.
      Quantity.getAmountInBytes(new Quantity(q));
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new IllegalArgumentException(path + " is not a Kubernetes quantity: " + q, e);
    }
    return q.trim();
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
