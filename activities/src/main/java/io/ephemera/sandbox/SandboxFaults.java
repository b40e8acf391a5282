package io.ephemera.sandbox;

import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import mockwebserver3.MockResponse;
import mockwebserver3.SocketEffect;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Seeded, probabilistic fault injection at a sandbox's HTTP boundary, for chaos tests: while on,
 * each request the sandbox serves fails with {@code probability}, as one of the enabled {@link
 * Kind}s. Every sandbox holds one ({@code faults()}); off by default, and then a request costs one
 * volatile read and nothing else.
 *
 * <p>The decisions come from one {@link SplittableRandom} seeded with {@code seed}: the n-th
 * request a sandbox serves gets the n-th decision. Which request is the n-th depends on thread
 * scheduling, so a seed replays the same fault sequence and mix, not the same interleaving.
 */
public final class SandboxFaults {
  private static final Logger log = LoggerFactory.getLogger(SandboxFaults.class);

  /** How a faulted request fails. */
  public enum Kind {
    /** Answered 500, 502 or 503 without being applied, as a failing server or proxy would. */
    SERVER_ERROR,
    /** The connection is closed without an answer, before the request is applied. */
    RESET,
    /**
     * The request is applied, then the answer never comes: the connection is closed after {@code
     * stall}. To the client this is what a read timeout looks like (the work happened, the caller
     * cannot know), without making a test wait out a real client timeout.
     */
    TIMEOUT
  }

  /** One decision: the kind, and for {@link Kind#SERVER_ERROR} the status to answer. */
  public record Fault(Kind kind, int status, Duration stall) {}

  private final String name;
  private final Map<Kind, AtomicLong> injected = new EnumMap<>(Kind.class);
  private final AtomicLong requests = new AtomicLong();
  private volatile Settings settings;

  private record Settings(
      double probability, List<Kind> kinds, Duration stall, SplittableRandom random) {}

  /** Faults for the sandbox called {@code name} (for logs), off. */
  public SandboxFaults(String name) {
    this.name = Objects.requireNonNull(name, "name");
    for (Kind k : Kind.values()) {
      injected.put(k, new AtomicLong());
    }
  }

  /** Every kind, with a 50 ms stall before a {@link Kind#TIMEOUT}'s connection is closed. */
  public void enable(double probability, long seed) {
    enable(probability, seed, List.of(Kind.values()), Duration.ofMillis(50));
  }

  /**
   * Turns faults on: from now on each request fails with {@code probability} as one of {@code
   * kinds}, chosen evenly.
   */
  public void enable(double probability, long seed, List<Kind> kinds, Duration stall) {
    if (!(probability >= 0 && probability <= 1)) {
      throw new IllegalArgumentException("probability must be within [0, 1], was " + probability);
    }
    if (kinds == null || kinds.isEmpty()) {
      throw new IllegalArgumentException("at least one fault kind is needed");
    }
    if (stall == null || stall.isNegative()) {
      throw new IllegalArgumentException("stall must not be negative");
    }
    settings = new Settings(probability, List.copyOf(kinds), stall, new SplittableRandom(seed));
    log.warn(
        "Sandbox {}: fault injection ON, probability {} of {} (seed {})",
        name,
        probability,
        kinds,
        seed);
  }

  /** Turns faults off: every request is served normally again. */
  public void disable() {
    if (settings != null) {
      settings = null;
      log.warn("Sandbox {}: fault injection off; injected so far {}", name, injected());
    }
  }

  public boolean enabled() {
    return settings != null;
  }

  /**
   * The decision for the next request: {@code null} to serve it normally. Called once per request
   * at the sandbox's boundary, before anything is applied.
   */
  public Fault next() {
    Settings s = settings;
    if (s == null) {
      return null;
    }
    requests.incrementAndGet();
    Kind kind;
    int status;
    synchronized (s.random) {
      if (s.random.nextDouble() >= s.probability) {
        return null;
      }
      kind = s.kinds.get(s.random.nextInt(s.kinds.size()));
      status = new int[] {500, 502, 503}[s.random.nextInt(3)];
    }
    injected.get(kind).incrementAndGet();
    return new Fault(kind, status, s.stall);
  }

  /** Faults injected so far, by kind. */
  public Map<Kind, Long> injected() {
    Map<Kind, Long> out = new EnumMap<>(Kind.class);
    injected.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  /** Requests decided while faults were on. */
  public long requestsWhileOn() {
    return requests.get();
  }

  public String name() {
    return name;
  }

  /**
   * Serves one request of a MockWebServer sandbox: normally through {@code dispatch}, or failed as
   * the next decision says ({@code error} builds the sandbox's own error answer for a status).
   */
  MockResponse serve(Supplier<MockResponse> dispatch, IntFunction<MockResponse> error) {
    Fault f = next();
    if (f == null) {
      return dispatch.get();
    }
    return switch (f.kind()) {
      case SERVER_ERROR -> error.apply(f.status());
      case RESET -> hangUp();
      case TIMEOUT -> {
        dispatch.get();
        stall(f);
        yield hangUp();
      }
    };
  }

  /** No answer: the connection is shut down where the response would start. */
  private static MockResponse hangUp() {
    return new MockResponse.Builder()
        .onResponseStart(SocketEffect.ShutdownConnection.INSTANCE)
        .build();
  }

  /** Sleeps a {@link Kind#TIMEOUT}'s stall on the serving thread. */
  static void stall(Fault f) {
    try {
      Thread.sleep(f.stall().toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
