package io.ephemera.activity.routing;

import io.ephemera.runner.RouteLookup;
import io.ephemera.runner.RunnerRoute;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * The routing table as the api's intake sees it: the served projects, then the configured source,
 * then the fallback route. A {@link RouteSourceException} from the source propagates, so an
 * unreadable table never silently drops a job.
 */
public final class RoutingLookup implements RouteLookup {
  private static final Logger log = LoggerFactory.getLogger(RoutingLookup.class);

  private final Set<Long> projects;
  private final RouteSource source;
  private final RunnerRoute fallback;

  /**
   * @param projects projects served; empty serves every project
   * @param source where routes come from
   * @param fallback the route of a job the source has none for, or {@code null} to ignore it
   */
  public RoutingLookup(Set<Long> projects, RouteSource source, RunnerRoute fallback) {
    this.projects = projects == null ? Set.of() : Set.copyOf(projects);
    this.source = Objects.requireNonNull(source, "source");
    this.fallback = fallback;
  }

  /**
   * The inline rules and those of {@code file}, in that order; the inline default route, else the
   * file's. Reads the file now, so a broken file fails the start-up.
   */
  public static RoutingLookup fromYaml(RoutingProperties props) {
    List<RouteRule> rules = new ArrayList<>(props.routeRules());
    RunnerRoute defaultRoute = props.defaultRunnerRoute().orElse(null);
    if (props.file() != null) {
      RoutingFile.Content file = RoutingFile.load(Path.of(props.file()));
      rules.addAll(file.rules());
      if (defaultRoute == null) {
        defaultRoute = file.defaultRoute();
      }
    }
    RouteTable table = new RouteTable(rules, defaultRoute);
    log.info(
        "Runner routing from configuration{}: {} rules, default route {}, projects {}",
        props.file() == null ? "" : " and " + props.file(),
        rules.size(),
        defaultRoute == null ? "none (unmatched jobs are ignored)" : defaultRoute.name(),
        props.projects().isEmpty() ? "all" : props.projects());
    return new RoutingLookup(props.projects(), table, null);
  }

  /** Routes from the DynamoDB table of {@code props}, read through {@code client}. */
  public static RoutingLookup fromDynamoDb(RoutingProperties props, DynamoDbClient client) {
    if (!props.rules().isEmpty() || props.file() != null) {
      log.warn(
          "ephemera.runners.routing.source is dynamodb: the configured rules and routing file are"
              + " ignored (only the default route applies)");
    }
    log.info(
        "Runner routing from DynamoDB table {} (cached {}), default route {}, projects {}",
        props.dynamodb().table(),
        props.cacheTtl(),
        props.defaultRunnerRoute().map(RunnerRoute::name).orElse("none"),
        props.projects().isEmpty() ? "all" : props.projects());
    return new RoutingLookup(
        props.projects(),
        new DynamoDbRouteSource(client, props),
        props.defaultRunnerRoute().orElse(null));
  }

  @Override
  public Optional<RunnerRoute> route(long projectId, String jobName, List<String> tags) {
    if (!servesProject(projectId)) {
      return Optional.empty();
    }
    Optional<RunnerRoute> route = source.route(jobName, tags == null ? List.of() : tags);
    return route.isPresent() ? route : Optional.ofNullable(fallback);
  }

  @Override
  public boolean servesProject(long projectId) {
    return projects.isEmpty() || projects.contains(projectId);
  }
}
