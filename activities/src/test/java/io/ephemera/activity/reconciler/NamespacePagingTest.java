package io.ephemera.activity.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.ephemera.common.Labels;
import io.ephemera.common.Names;
import io.ephemera.common.WorkflowIds;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.NamespaceList;
import io.fabric8.kubernetes.api.model.NamespaceListBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.InetAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A pass over 5,000 managed namespaces, paged. Fabric8's CRUD mock ignores {@code limit} and {@code
 * continue} (it would answer all 5,000 at once, which proves nothing about memory), so this mock
 * API server serves real pages the way the Kubernetes API does, generating each page on request,
 * and records what was asked. Memory is bounded by the page size when every request carried the
 * limit, no page held more, and the answer holds only a capped list of candidates.
 */
class NamespacePagingTest {
  private static final int NAMESPACES = 5_000;
  private static final int PAGE = 500;
  private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

  private final List<Map<String, String>> requests = new CopyOnWriteArrayList<>();
  private KubernetesMockServer server;
  private KubernetesClient client;

  @BeforeEach
  void startServer() {
    server =
        new KubernetesMockServer(
            new Context(Serialization.jsonMapper()),
            new MockWebServer(),
            new HashMap<>(),
            new Dispatcher() {
              @Override
              public MockResponse dispatch(RecordedRequest request) {
                return page(request);
              }
            },
            false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    client = server.createClient();
  }

  @AfterEach
  void stopServer() {
    client.close();
    server.destroy();
  }

  @Test
  void aPassOverFiveThousandNamespacesReadsThemPageByPage() {
    // Even namespaces belong to running review apps, odd ones to workflows Temporal never knew.
    Owners owners =
        id ->
            Long.parseLong(id.substring(id.lastIndexOf('-') + 1)) % 2 == 0
                ? new Owners.State(true, "running", null)
                : Owners.State.NOT_FOUND;
    List<String> heartbeats = new ArrayList<>();

    Listing listing =
        new OrphanScan(owners, Clock.fixed(NOW, ZoneOffset.UTC))
            .scan(
                KubernetesSources.namespaces(client),
                Duration.ofMinutes(10),
                PAGE,
                100,
                heartbeats::add);

    assertThat(listing.complete()).isTrue();
    assertThat(listing.live()).isEqualTo(NAMESPACES);
    assertThat(listing.ownedByRunning()).isEqualTo(NAMESPACES / 2);
    assertThat(listing.orphans()).isEqualTo(NAMESPACES / 2);
    assertThat(listing.candidates()).hasSize(100); // capped: the rest wait for the next pass
    assertThat(listing.candidates())
        .allSatisfy(o -> assertThat(o.ownerState()).isEqualTo("not found"));
    assertThat(listing.pages()).isEqualTo(NAMESPACES / PAGE);
    assertThat(listing.largestPage()).isLessThanOrEqualTo(PAGE);
    assertThat(listing.oldestAgeSeconds()).isEqualTo(Duration.ofDays(1).toSeconds());
    assertThat(heartbeats).hasSize(NAMESPACES / PAGE);

    assertThat(requests).hasSize(NAMESPACES / PAGE);
    assertThat(requests)
        .allSatisfy(
            q -> {
              assertThat(q.get("limit")).isEqualTo(Integer.toString(PAGE));
              assertThat(q.get("labelSelector"))
                  .isEqualTo(Labels.MANAGED_BY + "=" + Labels.MANAGED_BY_VALUE);
            });
    assertThat(requests.get(0)).doesNotContainKey("continue");
    for (int i = 1; i < requests.size(); i++) {
      assertThat(requests.get(i).get("continue")).isEqualTo("after-" + i * PAGE);
    }
  }

  /** One page of {@code GET /api/v1/namespaces}, as the API server pages: limit and continue. */
  private MockResponse page(RecordedRequest request) {
    Map<String, String> query = query(request.getPath());
    requests.add(query);
    int limit = Integer.parseInt(query.getOrDefault("limit", Integer.toString(NAMESPACES)));
    String token = query.get("continue");
    int from = token == null ? 0 : Integer.parseInt(token.substring("after-".length()));
    int to = Math.min(NAMESPACES, from + limit);
    List<Namespace> items = new ArrayList<>(to - from);
    for (int i = from; i < to; i++) {
      String owner = WorkflowIds.reviewApp(9, i);
      items.add(
          new NamespaceBuilder()
              .withNewMetadata()
              .withName("review-9-mr-" + i)
              .withCreationTimestamp(NOW.minus(Duration.ofDays(1)).toString())
              .addToLabels(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
              .addToLabels(Labels.WORKFLOW_ID, Names.labelValue(owner))
              .endMetadata()
              .build());
    }
    NamespaceList list =
        new NamespaceListBuilder()
            .withNewMetadata()
            .withContinue(to < NAMESPACES ? "after-" + to : null)
            .endMetadata()
            .withItems(items)
            .build();
    return new MockResponse()
        .setResponseCode(200)
        .setHeader("Content-Type", "application/json")
        .setBody(Serialization.asJson(list));
  }

  private static Map<String, String> query(String path) {
    Map<String, String> q = new LinkedHashMap<>();
    int i = path.indexOf('?');
    if (i < 0) {
      return q;
    }
    for (String pair : path.substring(i + 1).split("&")) {
      int eq = pair.indexOf('=');
      q.put(
          URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
          URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return q;
  }
}
