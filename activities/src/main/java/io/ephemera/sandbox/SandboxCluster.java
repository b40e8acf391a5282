package io.ephemera.sandbox;

import io.ephemera.common.Labels;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-process stand-in for a Kubernetes cluster, for the {@code local} profile only: the
 * architecture allows a sandbox in place of every external system there, and forbids one anywhere
 * else. It is Fabric8's mock API server in CRUD mode on loopback, so the real {@code
 * KubernetesActivitiesImpl} talks real HTTP to it, plus a small controller thread doing what a
 * cluster's controllers would (see {@link SandboxController}): Deployments report a finished
 * rollout after {@code rolloutDelay}, build Jobs finish after {@code buildDelay} with a simulated
 * pod and log (served at the pod's {@code /log}, honouring {@code tailLines}), and a deleted
 * namespace takes its objects with it.
 *
 * <p>What it is not: nothing runs (no kubelet, no images pulled, no pods), no admission, no RBAC,
 * no server-side apply, no garbage collection by owner reference, state in memory only and lost on
 * restart. To use a real cluster, set {@code ephemera.kubernetes.sandbox=false} and provide a
 * kubeconfig or run in-cluster with a ServiceAccount.
 */
public final class SandboxCluster implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SandboxCluster.class);

  /**
   * The mock web server logs every request at INFO through java.util.logging; the controller alone
   * makes dozens a second. Held strongly, since JUL forgets the level of a logger nobody holds.
   */
  private static final java.util.logging.Logger MOCK_WEB_SERVER_LOG =
      java.util.logging.Logger.getLogger(MockWebServer.class.getName());

  /**
   * Requests carrying this header come from the sandbox itself (its controller, build simulation
   * and inventory): probabilistic faults spare them, as a cluster's own controllers do not go
   * through the load balancer that is failing Ephemera's calls.
   */
  static final String INTERNAL_HEADER = "X-Ephemera-Sandbox-Internal";

  private final KubernetesMockServer server;
  private final KubernetesClient client;
  private final KubernetesClient internal;
  private final SandboxFaults faults = new SandboxFaults("cluster");
  private final SandboxController controller;
  private final SandboxBuilds builds;
  private final Map<String, String> podLogs = new ConcurrentHashMap<>();
  private final AtomicBoolean closed = new AtomicBoolean();

  /** While true, every API request is answered 500 (see {@link #failRequests}). */
  private volatile boolean failing;

  private SandboxCluster(Duration rolloutDelay, Duration buildDelay) {
    MOCK_WEB_SERVER_LOG.setLevel(Level.WARNING);
    // Plain HTTP on loopback: nothing leaves the machine, and no self-signed certificate to trust.
    Map<ServerRequest, Queue<ServerResponse>> expectations = new HashMap<>();
    server =
        new KubernetesMockServer(
            new Context(Serialization.jsonMapper()),
            new MockWebServer(),
            expectations,
            // Mixed: CRUD for objects, and the server's own canned answers for / and /version;
            // pod logs, which CRUD does not serve, from what the build simulation wrote; all
            // behind the fault switch.
            new Faulty(new PodLogDispatcher(expectations, podLogs)),
            false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    client = server.createClient();
    internal =
        new KubernetesClientBuilder()
            .withConfig(
                new ConfigBuilder(client.getConfiguration())
                    .withCustomHeaders(Map.of(INTERNAL_HEADER, "true"))
                    .build())
            .build();
    builds = new SandboxBuilds(internal, buildDelay, Clock.systemUTC(), podLogs);
    controller =
        new SandboxController(
            internal, rolloutDelay, Clock.systemUTC(), this::forgetRequests, builds);
  }

  /**
   * Starts the sandbox and its controller.
   *
   * @param rolloutDelay how long a Deployment takes to "roll out" after its template last changed
   */
  public static SandboxCluster start(Duration rolloutDelay) {
    return start(rolloutDelay, Duration.ofSeconds(1));
  }

  /**
   * Starts the sandbox and its controller.
   *
   * @param rolloutDelay how long a Deployment takes to "roll out" after its template last changed
   * @param buildDelay how long a Job takes to "run"; zero finishes it at the controller's next pass
   */
  public static SandboxCluster start(Duration rolloutDelay, Duration buildDelay) {
    Objects.requireNonNull(rolloutDelay, "rolloutDelay");
    Objects.requireNonNull(buildDelay, "buildDelay");
    if (rolloutDelay.isNegative() || buildDelay.isNegative()) {
      throw new IllegalArgumentException("rolloutDelay and buildDelay must not be negative");
    }
    SandboxCluster cluster = new SandboxCluster(rolloutDelay, buildDelay);
    cluster.controller.start();
    log.info(
        "Kubernetes SANDBOX at {}: an in-memory stand-in (Fabric8 mock API server), not a cluster."
            + " Nothing runs in it, Deployments report ready after {}, build Jobs finish after {}"
            + " without building anything, and everything is lost on restart. For a real cluster"
            + " set ephemera.kubernetes.sandbox=false with a kubeconfig or an in-cluster"
            + " ServiceAccount.",
        cluster.url(),
        rolloutDelay,
        buildDelay);
    return cluster;
  }

  /**
   * The fault switch: while on, the API server answers every request with 500, as an overloaded or
   * broken control plane would (the objects stay as they were). For trying what Ephemera does then;
   * the sandbox's own controller fails too while it is on.
   */
  public void failRequests(boolean on) {
    failing = on;
    log.warn("Sandbox cluster {}", on ? "answers 500 to every request" : "answers normally again");
  }

  /**
   * Probabilistic fault injection for chaos tests (off by default): see {@link SandboxFaults}. It
   * applies to requests of {@link #client()} (Ephemera's), not to the sandbox's own controller. A
   * faulted request is answered 5xx, or the connection is closed before the answer (for {@code
   * TIMEOUT}, after the request was applied).
   */
  public SandboxFaults faults() {
    return faults;
  }

  /**
   * Every rollout the controller started: one per Deployment template it saw change (a new
   * Deployment, a new pod template or replica count, or a Deployment recreated), with the commit of
   * the template's {@code ephemera.io/sha} label. Templates applied again unchanged are not
   * rollouts, and two changes within one controller pass (100 ms) count once.
   */
  public List<Rollout> rollouts() {
    return controller.rollouts();
  }

  /** One rollout: where, which Deployment, which commit, when the controller saw it start. */
  public record Rollout(String namespace, String deployment, String sha, java.time.Instant at) {}

  /** A client for the sandbox, owned by it: closed with it. */
  public KubernetesClient client() {
    return client;
  }

  /** The API server URL, e.g. for a kubeconfig pointing at the sandbox. */
  public String url() {
    return server.url("/");
  }

  /**
   * Build Jobs matching {@code predicate} fail (exit code 1, a log saying so) instead of
   * succeeding; {@code null} lets every build succeed again.
   */
  public void failBuilds(Predicate<Job> predicate) {
    builds.failBuilds(predicate);
  }

  /** Build Jobs of commit {@code sha} (their {@code ephemera.io/sha} label) fail. */
  public void failBuildsOf(String sha) {
    failBuilds(
        j ->
            j.getMetadata().getLabels() != null
                && sha.equals(j.getMetadata().getLabels().get(Labels.SHA)));
  }

  /**
   * Build Jobs matching {@code predicate} keep running, however long, until the predicate no longer
   * matches them (a build stuck on a slow registry, say); {@code null} lets every build finish.
   */
  public void holdBuilds(Predicate<Job> predicate) {
    builds.holdBuilds(predicate);
  }

  /** Build Jobs of commit {@code sha} (their {@code ephemera.io/sha} label) keep running. */
  public void holdBuildsOf(String sha) {
    holdBuilds(
        j ->
            j.getMetadata().getLabels() != null
                && sha.equals(j.getMetadata().getLabels().get(Labels.SHA)));
  }

  /** A successful build Job's {@code --destination} is recorded as pushed in {@code registry}. */
  public void pushBuildsTo(SandboxRegistry registry) {
    builds.onPushed(registry == null ? null : registry::push);
  }

  /** Every Job labelled {@code ephemera.io/kind=build}, sorted, for the inventory. */
  public List<BuildEntry> builds() {
    List<BuildEntry> entries = new ArrayList<>();
    for (Job j :
        internal
            .batch()
            .v1()
            .jobs()
            .inAnyNamespace()
            .withLabel(Labels.KIND, "build")
            .list()
            .getItems()) {
      Map<String, String> labels = labels(j);
      entries.add(
          new BuildEntry(
              j.getMetadata().getNamespace(),
              j.getMetadata().getName(),
              labels.get(Labels.SHA),
              SandboxBuilds.destination(j),
              state(j)));
    }
    entries.sort(Comparator.comparing(BuildEntry::namespace).thenComparing(BuildEntry::name));
    return List.copyOf(entries);
  }

  private static String state(Job j) {
    if (j.getStatus() != null && j.getStatus().getConditions() != null) {
      for (var c : j.getStatus().getConditions()) {
        if ("True".equals(c.getStatus()) && "Complete".equals(c.getType())) {
          return "succeeded";
        }
        if ("True".equals(c.getStatus()) && "Failed".equals(c.getType())) {
          return "failed";
        }
      }
    }
    return "running";
  }

  /** A build Job: where, which commit, what it pushes, and {@code running|succeeded|failed}. */
  public record BuildEntry(
      String namespace, String name, String sha, String destination, String state) {}

  /** Every namespace, sorted by name, with the objects it holds of the kinds the sandbox knows. */
  public List<NamespaceEntry> inventory() {
    List<Namespace> namespaces = internal.namespaces().list().getItems();
    Map<String, List<ObjectEntry>> byNamespace = new HashMap<>();
    for (SandboxKinds.Kind<?> kind : SandboxKinds.ALL) {
      for (HasMetadata o : kind.listAll(internal)) {
        byNamespace
            .computeIfAbsent(o.getMetadata().getNamespace(), k -> new ArrayList<>())
            .add(new ObjectEntry(kind.name(), o.getMetadata().getName(), labels(o)));
      }
    }
    List<NamespaceEntry> entries = new ArrayList<>();
    for (Namespace n : namespaces) {
      String name = n.getMetadata().getName();
      List<ObjectEntry> objects = new ArrayList<>(byNamespace.getOrDefault(name, List.of()));
      objects.sort(Comparator.comparing(ObjectEntry::kind).thenComparing(ObjectEntry::name));
      entries.add(new NamespaceEntry(name, labels(n), List.copyOf(objects)));
    }
    entries.sort(Comparator.comparing(NamespaceEntry::name));
    return List.copyOf(entries);
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    controller.close();
    internal.close();
    client.close();
    server.destroy();
  }

  /**
   * The mock web server keeps every request it served for tests to inspect; a sandbox running for
   * days would keep them all. The controller calls this on every pass.
   */
  private void forgetRequests() {
    try {
      while (server.takeRequest(0, TimeUnit.MILLISECONDS) != null) {
        // drained
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static Map<String, String> labels(HasMetadata o) {
    Map<String, String> labels = o.getMetadata().getLabels();
    return labels == null ? Map.of() : Map.copyOf(labels);
  }

  /**
   * The mixed dispatcher, plus {@code GET /api/v1/namespaces/<ns>/pods/<pod>/log}, which Fabric8's
   * CRUD mode does not serve, answered from the simulated logs with {@code tailLines} applied.
   */
  private static final class PodLogDispatcher extends KubernetesMixedDispatcher {
    private static final Pattern LOG =
        Pattern.compile("/api/v1/namespaces/([^/]+)/pods/([^/?]+)/log(?:\\?(.*))?");
    private final Map<String, String> logs;

    PodLogDispatcher(
        Map<ServerRequest, Queue<ServerResponse>> expectations, Map<String, String> logs) {
      super(expectations);
      this.logs = logs;
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
      Matcher m = LOG.matcher(request.getPath());
      if (!"GET".equals(request.getMethod()) || !m.matches()) {
        // Lists come in pages, as from a real API server (see SandboxPaging).
        return SandboxPaging.page(request, super.dispatch(request));
      }
      String text = logs.get(m.group(1) + "/" + m.group(2));
      if (text == null) {
        return new MockResponse()
            .setResponseCode(404)
            .setHeader("Content-Type", "application/json")
            .setBody(
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                    + "\"reason\":\"NotFound\",\"code\":404,\"message\":\"pods \\\""
                    + m.group(2)
                    + "\\\" not found\"}");
      }
      Integer tail = tailLines(m.group(3));
      if (tail != null) {
        List<String> lines = text.lines().toList();
        text =
            String.join("\n", lines.subList(Math.max(0, lines.size() - tail), lines.size())) + "\n";
      }
      return new MockResponse()
          .setResponseCode(200)
          .setHeader("Content-Type", "text/plain")
          .setBody(text);
    }

    private static Integer tailLines(String query) {
      if (query == null) {
        return null;
      }
      for (String p : query.split("&")) {
        if (p.startsWith("tailLines=")) {
          try {
            return Math.max(0, Integer.parseInt(p.substring("tailLines=".length())));
          } catch (NumberFormatException e) {
            return null;
          }
        }
      }
      return null;
    }
  }

  /**
   * Answers 500 while the fault switch is on; else, for Ephemera's requests, what {@link #faults}
   * decides; else what the mock server answers.
   */
  private final class Faulty extends Dispatcher {
    private final Dispatcher delegate;

    Faulty(Dispatcher delegate) {
      this.delegate = delegate;
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
      if (failing) {
        return status(500, "sandbox fault switch is on");
      }
      SandboxFaults.Fault f = request.getHeader(INTERNAL_HEADER) == null ? faults.next() : null;
      if (f == null) {
        return delegate.dispatch(request);
      }
      return switch (f.kind()) {
        case SERVER_ERROR -> status(f.status(), "sandbox fault injection");
        case RESET -> hangUp();
        case TIMEOUT -> {
          delegate.dispatch(request);
          SandboxFaults.stall(f);
          yield hangUp();
        }
      };
    }

    private static MockResponse status(int code, String message) {
      return new MockResponse()
          .setResponseCode(code)
          .setHeader("Content-Type", "application/json")
          .setBody(
              "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                  + "\"message\":\""
                  + message
                  + "\",\"code\":"
                  + code
                  + "}");
    }

    /**
     * The mock server (Vert.x) cannot drop a connection on request, but it closes one whose answer
     * says {@code Connection: close}; an answer promising more body than it sends then ends early,
     * and the client sees the connection close mid-answer.
     */
    private static MockResponse hangUp() {
      return new MockResponse()
          .setResponseCode(200)
          .setBody("{")
          .setHeader("Connection", "close")
          .setHeader("Content-Type", "application/json")
          // After the body, which sets its own length: this one replaces it.
          .setHeader("Content-Length", "65536");
    }

    @Override
    public void shutdown() {
      delegate.shutdown();
    }
  }

  /** A namespace of the sandbox and the objects in it, sorted by kind and name. */
  public record NamespaceEntry(
      String name, Map<String, String> labels, List<ObjectEntry> objects) {}

  /** One object: its kind ({@code Deployment}, {@code Service}, ...), name and labels. */
  public record ObjectEntry(String kind, String name, Map<String, String> labels) {}
}
