package io.ephemera.activity.routing;

import io.ephemera.runner.RunnerRoute;
import io.ephemera.runner.RunnerType;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.enhanced.dynamodb.DynamoDbEnhancedClient;
import software.amazon.awssdk.enhanced.dynamodb.DynamoDbTable;
import software.amazon.awssdk.enhanced.dynamodb.Key;
import software.amazon.awssdk.enhanced.dynamodb.model.QueryConditional;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClientBuilder;

/**
 * Routes from a DynamoDB table, read through the AWS SDK v2 enhanced client (schema in {@link
 * RouteItem} and activities/README.md).
 *
 * <p>A job's routes are the items of its partition {@code job#<name>} and of the wildcard partition
 * {@code job#*}. An item applies when the job carries all the tags of its sort key ({@code
 * tags#docker#large}; {@code tags#} alone requires none). The job's own partition is searched
 * first, then the wildcard one; within a partition the item requiring the most tags wins, ties
 * going to the smaller sort key. Items that do not make a valid route (no or unknown {@code type},
 * a bad quantity or duration) are skipped with a warning.
 *
 * <p>Each partition is cached for {@code cacheTtl}, at most {@code cacheSize} of them (least
 * recently used go first), so a pipeline fanning out into hundreds of jobs costs a handful of
 * reads. When DynamoDB fails, an expired cached answer is used if there is one; otherwise the
 * lookup throws {@link RouteSourceException} and the webhook is answered with an error GitLab
 * retries, rather than the job being ignored.
 */
public final class DynamoDbRouteSource implements RouteSource {
  private static final Logger log = LoggerFactory.getLogger(DynamoDbRouteSource.class);

  private final DynamoDbTable<RouteItem> table;
  private final Duration cacheTtl;
  private final int cacheSize;
  private final Clock clock;
  private final Map<String, Cached> cache;

  public DynamoDbRouteSource(DynamoDbClient client, RoutingProperties props) {
    this(client, props.dynamodb().table(), props.cacheTtl(), props.dynamodb().cacheSize());
  }

  public DynamoDbRouteSource(
      DynamoDbClient client, String tableName, Duration cacheTtl, int cacheSize) {
    this(client, tableName, cacheTtl, cacheSize, Clock.systemUTC());
  }

  DynamoDbRouteSource(
      DynamoDbClient client, String tableName, Duration cacheTtl, int cacheSize, Clock clock) {
    this.table =
        DynamoDbEnhancedClient.builder()
            .dynamoDbClient(Objects.requireNonNull(client, "client"))
            .build()
            .table(tableName, RouteItem.SCHEMA);
    this.cacheTtl = cacheTtl;
    this.cacheSize = cacheSize;
    this.clock = clock;
    this.cache =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
            return size() > DynamoDbRouteSource.this.cacheSize;
          }
        };
  }

  /**
   * A DynamoDB client for the routing table: the Apache 5 HTTP client, the configured region and
   * endpoint (else the SDK's defaults), and the default credentials chain (environment, web
   * identity such as IRSA, profile, instance profile). The caller owns it and closes it.
   */
  public static DynamoDbClient client(RoutingProperties.DynamoDb config) {
    return clientBuilder(config).build();
  }

  static DynamoDbClientBuilder clientBuilder(RoutingProperties.DynamoDb config) {
    DynamoDbClientBuilder b =
        DynamoDbClient.builder().httpClientBuilder(Apache5HttpClient.builder());
    if (config.region() != null) {
      b.region(Region.of(config.region()));
    }
    if (config.endpoint() != null) {
      b.endpointOverride(config.endpoint());
    }
    return b;
  }

  @Override
  public Optional<RunnerRoute> route(String jobName, Collection<String> tags) {
    Set<String> jobTags = RouteRule.normaliseTags(tags);
    if (jobName != null && !jobName.isBlank()) {
      Optional<RunnerRoute> specific = best(items(RouteItem.partition(jobName)), jobTags);
      if (specific.isPresent()) {
        return specific;
      }
    }
    return best(items(RouteItem.ANY_JOB), jobTags);
  }

  /** Drops every cached answer; the next lookups read the table. */
  public void invalidate() {
    synchronized (cache) {
      cache.clear();
    }
  }

  private static Optional<RunnerRoute> best(List<Candidate> candidates, Set<String> jobTags) {
    Candidate best = null;
    for (Candidate c : candidates) {
      // Candidates come sorted by sort key, so the first of the most specific wins a tie.
      if (jobTags.containsAll(c.tags()) && (best == null || c.tags().size() > best.tags().size())) {
        best = c;
      }
    }
    return best == null ? Optional.empty() : Optional.of(best.route());
  }

  private List<Candidate> items(String partition) {
    Instant now = clock.instant();
    Cached cached;
    synchronized (cache) {
      cached = cache.get(partition);
    }
    if (cached != null && now.isBefore(cached.fetchedAt().plus(cacheTtl))) {
      return cached.candidates();
    }
    List<Candidate> fresh;
    try {
      fresh = read(partition);
    } catch (SdkException e) {
      if (cached != null) {
        log.warn(
            "Routing table {} could not be read for {}; using the answer cached at {}: {}",
            table.tableName(),
            partition,
            cached.fetchedAt(),
            e.getMessage());
        return cached.candidates();
      }
      throw new RouteSourceException(
          "Routing table "
              + table.tableName()
              + " could not be read for "
              + partition
              + ": "
              + e.getMessage(),
          e);
    }
    synchronized (cache) {
      cache.put(partition, new Cached(fresh, now));
    }
    return fresh;
  }

  private List<Candidate> read(String partition) {
    List<Candidate> candidates = new ArrayList<>();
    QueryConditional byPartition =
        QueryConditional.keyEqualTo(Key.builder().partitionValue(partition).build());
    // Items come sorted by sort key; every page is read (a partition holds a few items).
    for (RouteItem item : table.query(byPartition).items()) {
      toCandidate(item).ifPresent(candidates::add);
    }
    return List.copyOf(candidates);
  }

  private Optional<Candidate> toCandidate(RouteItem item) {
    String where = "routing table " + table.tableName() + " item " + item.pk() + " / " + item.sk();
    List<String> tags = RouteItem.tagsOf(item.sk());
    if (tags == null) {
      log.warn("Skipping {}: the sort key must start with {}", where, RouteItem.TAGS_PREFIX);
      return Optional.empty();
    }
    try {
      RunnerType type = type(item.type());
      Duration maxLifetime = duration(item.maxLifetime());
      RunnerRoute route =
          new RoutingProperties.Route(
                  item.name(),
                  type,
                  item.cpu(),
                  item.memory(),
                  item.instanceType(),
                  item.image(),
                  item.ami(),
                  maxLifetime)
              .toRunnerRoute("attribute", item.pk() + "/" + item.sk());
      return Optional.of(new Candidate(Set.copyOf(tags), route));
    } catch (IllegalArgumentException e) {
      log.warn("Skipping {}: {}", where, e.getMessage());
      return Optional.empty();
    }
  }

  private static Duration duration(String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    try {
      return Duration.parse(value.trim());
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "attribute.maxLifetime must be an ISO-8601 duration such as PT2H, was " + value);
    }
  }

  private static RunnerType type(String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    try {
      return RunnerType.valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "attribute.type must be "
              + RunnerType.KUBERNETES
              + " or "
              + RunnerType.EC2
              + ", was "
              + value);
    }
  }

  private record Candidate(Set<String> tags, RunnerRoute route) {}

  private record Cached(List<Candidate> candidates, Instant fetchedAt) {}
}
