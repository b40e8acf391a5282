package io.ephemera.activity.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ephemera.runner.RunnerRoute;
import io.ephemera.runner.RunnerType;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.enhanced.dynamodb.DynamoDbEnhancedClient;
import software.amazon.awssdk.enhanced.dynamodb.DynamoDbTable;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.dynamodb.services.local.embedded.DynamoDBEmbedded;
import software.amazon.dynamodb.services.local.shared.access.AmazonDynamoDBLocal;

/**
 * The DynamoDB route source against DynamoDB Local running embedded in the test JVM (in memory, no
 * network, telemetry off). Its SQLite engine loads the sqlite4java native library from {@code
 * sqlite4java.library.path}, which the activities POM points at the copy it makes in target/.
 */
class DynamoDbRouteSourceTest {
  static final AtomicInteger TABLES = new AtomicInteger();
  static AmazonDynamoDBLocal dynamoDbLocal;
  static DynamoDbClient client;

  String tableName;
  DynamoDbTable<RouteItem> table;
  MutableClock clock;
  DynamoDbRouteSource source;

  @BeforeAll
  static void startDynamoDbLocal() {
    dynamoDbLocal = DynamoDBEmbedded.create(true);
    client = dynamoDbLocal.dynamoDbClient();
  }

  @AfterAll
  static void stopDynamoDbLocal() {
    client.close();
    dynamoDbLocal.shutdownNow();
  }

  @BeforeEach
  void createTable() {
    tableName = "routes-" + TABLES.incrementAndGet();
    table =
        DynamoDbEnhancedClient.builder()
            .dynamoDbClient(client)
            .build()
            .table(tableName, RouteItem.SCHEMA);
    table.createTable();
    clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
    source = new DynamoDbRouteSource(client, tableName, Duration.ofSeconds(30), 100, clock);
  }

  @Test
  void aJobGetsTheRouteOfItsNameAndTags() {
    put(
        "job#build",
        List.of("docker"),
        Map.of(
            "type",
            "EC2",
            "name",
            "docker-vm",
            "instanceType",
            "c7i.large",
            "ami",
            "ami-0123",
            "maxLifetime",
            "PT2H"));

    assertThat(source.route("build", List.of("docker", "x86")))
        .contains(
            new RunnerRoute(
                "docker-vm",
                RunnerType.EC2,
                null,
                null,
                "c7i.large",
                null,
                "ami-0123",
                Duration.ofHours(2)));
  }

  @Test
  void theJobsOwnPartitionBeatsTheWildcardEvenWithFewerTags() {
    put("job#*", List.of("docker", "large"), Map.of("type", "EC2", "name", "wildcard"));
    put("job#build", List.of(), Map.of("type", "KUBERNETES", "name", "specific"));

    assertThat(name(source.route("build", List.of("docker", "large")))).isEqualTo("specific");
    assertThat(name(source.route("test", List.of("docker", "large")))).isEqualTo("wildcard");
  }

  @Test
  void theItemRequiringTheMostTagsTheJobCarriesWins() {
    put("job#build", List.of(), Map.of("type", "KUBERNETES", "name", "any"));
    put("job#build", List.of("docker"), Map.of("type", "KUBERNETES", "name", "docker"));
    put("job#build", List.of("docker", "large"), Map.of("type", "EC2", "name", "docker-large"));
    put("job#build", List.of("docker", "large", "gpu"), Map.of("type", "EC2", "name", "gpu"));

    assertThat(name(source.route("build", List.of("large", "docker")))).isEqualTo("docker-large");
    assertThat(name(source.route("build", List.of("docker")))).isEqualTo("docker");
    assertThat(name(source.route("build", List.of("other")))).isEqualTo("any");
  }

  @Test
  void theWildcardPartitionServesJobsWhoseOwnItemsDoNotMatch() {
    put("job#build", List.of("gpu"), Map.of("type", "EC2", "name", "gpu"));
    put("job#*", List.of(), Map.of("type", "KUBERNETES", "name", "everything"));

    assertThat(name(source.route("build", List.of("docker")))).isEqualTo("everything");
  }

  @Test
  void noMatchingItemGivesNoRouteOrTheDefaultRoute() {
    put("job#build", List.of("gpu"), Map.of("type", "EC2", "name", "gpu"));
    RunnerRoute fallback = RouteTableTest.pod("default", "1", "1Gi");

    assertThat(source.route("build", List.of("docker"))).isEmpty();
    assertThat(new RoutingLookup(Set.of(), source, null).route(1, "build", List.of())).isEmpty();
    assertThat(new RoutingLookup(Set.of(), source, fallback).route(1, "build", List.of()))
        .contains(fallback);
  }

  @Test
  void itemsThatAreNotValidRoutesAreSkipped() {
    put("job#build", List.of("docker"), Map.of("type", "LAMBDA", "name", "bad-type"));
    put("job#build", List.of("docker", "large"), Map.of("type", "EC2", "maxLifetime", "2 hours"));
    put("job#build", List.of("large"), Map.of("name", "no-type"));
    put("job#build", List.of(), Map.of("type", "KUBERNETES", "memory", "lots"));
    put("job#*", List.of(), Map.of("type", "KUBERNETES", "name", "fallback"));

    assertThat(name(source.route("build", List.of("docker", "large")))).isEqualTo("fallback");
  }

  @Test
  void answersAreReusedForTheCacheTtl() {
    put("job#build", List.of(), Map.of("type", "KUBERNETES", "name", "old"));
    assertThat(name(source.route("build", List.of()))).isEqualTo("old");

    put("job#build", List.of(), Map.of("type", "KUBERNETES", "name", "new"));
    clock.advance(Duration.ofSeconds(29));
    assertThat(name(source.route("build", List.of()))).isEqualTo("old");

    clock.advance(Duration.ofSeconds(2));
    assertThat(name(source.route("build", List.of()))).isEqualTo("new");
  }

  @Test
  void theCacheIsBoundedAndForgetsTheLeastRecentlyUsedJobName() {
    DynamoDbRouteSource small =
        new DynamoDbRouteSource(client, tableName, Duration.ofHours(1), 2, clock);
    put("job#a", List.of(), Map.of("type", "KUBERNETES", "name", "a1"));
    small.route("a", List.of()); // caches job#a and job#*
    small.route("b", List.of()); // caches job#b, evicting job#a

    put("job#a", List.of(), Map.of("type", "KUBERNETES", "name", "a2"));
    assertThat(name(small.route("a", List.of()))).isEqualTo("a2");
  }

  @Test
  void anUnreadableTableServesTheLastAnswerAndOtherwiseFailsLoudly() {
    put("job#build", List.of(), Map.of("type", "KUBERNETES", "name", "cached"));
    assertThat(name(source.route("build", List.of()))).isEqualTo("cached");
    table.deleteTable();
    clock.advance(Duration.ofMinutes(5));

    assertThat(name(source.route("build", List.of()))).isEqualTo("cached");
    DynamoDbRouteSource cold =
        new DynamoDbRouteSource(client, tableName, Duration.ofSeconds(30), 10, clock);
    assertThatThrownBy(() -> cold.route("build", List.of()))
        .isInstanceOf(RouteSourceException.class)
        .hasMessageContaining(tableName);
  }

  @Test
  void theClientUsesTheConfiguredRegionAndEndpoint() {
    try (DynamoDbClient configured =
        DynamoDbRouteSource.client(
            new RoutingProperties.DynamoDb(
                "t", URI.create("http://127.0.0.1:8000"), "eu-west-1", null))) {
      assertThat(configured.serviceClientConfiguration().region()).isEqualTo(Region.EU_WEST_1);
      assertThat(configured.serviceClientConfiguration().endpointOverride())
          .contains(URI.create("http://127.0.0.1:8000"));
    }
  }

  @Test
  void sortKeysListTheSortedTags() {
    assertThat(RouteItem.sortKey(List.of("large", "docker"))).isEqualTo("tags#docker#large");
    assertThat(RouteItem.sortKey(List.of())).isEqualTo("tags#");
    assertThat(RouteItem.tagsOf("tags#docker#large")).containsExactly("docker", "large");
    assertThat(RouteItem.tagsOf("tags#")).isEmpty();
    assertThat(RouteItem.tagsOf("docker")).isNull();
  }

  void put(String pk, List<String> tags, Map<String, String> attributes) {
    RouteItem item = new RouteItem();
    item.pk(pk);
    item.sk(RouteItem.sortKey(tags));
    item.type(attributes.get("type"));
    item.name(attributes.get("name"));
    item.cpu(attributes.get("cpu"));
    item.memory(attributes.get("memory"));
    item.instanceType(attributes.get("instanceType"));
    item.image(attributes.get("image"));
    item.ami(attributes.get("ami"));
    item.maxLifetime(attributes.get("maxLifetime"));
    table.putItem(item);
  }

  static String name(java.util.Optional<RunnerRoute> route) {
    return route.map(RunnerRoute::name).orElse(null);
  }

  static final class MutableClock extends Clock {
    private volatile Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
