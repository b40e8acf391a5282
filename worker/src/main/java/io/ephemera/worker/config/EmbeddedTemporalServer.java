package io.ephemera.worker.config;

import io.grpc.BindableService;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.temporal.internal.testservice.GRPCServerHelper;
import io.temporal.internal.testservice.TestServicesStarter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The SDK's in-memory Temporal service, bound to the loopback interface only.
 *
 * <p>{@code TestServer.createPortBoundServer} listens on every interface, which would offer an
 * unauthenticated Temporal frontend to the whole network a laptop is on. This assembles the same
 * services (the SDK's own {@code TestServicesStarter} and {@code GRPCServerHelper}, pinned by the
 * Temporal BOM) behind a loopback-only gRPC server. Time skipping is locked so timers fire in real
 * time, as on a real server. An {@link EmbeddedServerGuard} in front of it covers two gaps of the
 * test server (temporalio/sdk-java#2391, and sticky queues of a stopped worker).
 */
public final class EmbeddedTemporalServer implements AutoCloseable {
  private final TestServicesStarter services;
  private final Server server;
  private final EmbeddedServerGuard guard;

  private EmbeddedTemporalServer(
      TestServicesStarter services, Server server, EmbeddedServerGuard guard) {
    this.services = services;
    this.server = server;
    this.guard = guard;
  }

  /** Workflow tasks the guard failed rather than let temporalio/sdk-java#2391 wedge them. */
  public long avertedWedges() {
    return guard.averted();
  }

  /** Executions whose sticky queue the guard released because its worker stopped. */
  public long releasedStickyQueues() {
    return guard.stickyReleased();
  }

  /** Failed attempts of cancel-requested activities the guard reported as cancelled. */
  public long failuresReportedAsCancelled() {
    return guard.failuresReportedAsCancelled();
  }

  /** Activities the guard ended after their cancel request went unanswered. */
  public long endedStuckCancels() {
    return guard.stuckCancelsEnded();
  }

  /** Workflow tasks the guard moved off a stopped worker's sticky queue. */
  public long movedStickyTasks() {
    return guard.stickyTasksMoved();
  }

  public static EmbeddedTemporalServer start(int port) {
    TestServicesStarter services = new TestServicesStarter(true, 0);
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
            InsecureServerCredentials.create());
    // The operator service too (search attributes are registered through it), which the SDK's
    // own service list leaves out.
    List<BindableService> all = new ArrayList<>(services.getServices());
    if (all.stream().noneMatch(s -> s == services.getOperatorService())) {
      all.add(services.getOperatorService());
    }
    // The workflow service behind the guard (temporalio/sdk-java#2391, stopped workers' sticky
    // queues: see there).
    EmbeddedServerGuard guard = new EmbeddedServerGuard(services.getWorkflowService());
    int at = all.indexOf(services.getWorkflowService());
    if (at < 0) {
      services.close();
      throw new IllegalStateException(
          "the SDK's test services no longer list the workflow service");
    }
    BindableService workflowService = all.get(at);
    all.set(at, () -> ServerInterceptors.intercept(workflowService, guard));
    GRPCServerHelper.registerServicesAndHealthChecks(all, builder);
    try {
      return new EmbeddedTemporalServer(services, builder.build().start(), guard);
    } catch (IOException e) {
      services.close();
      throw new UncheckedIOException(
          "Cannot start the embedded Temporal server on 127.0.0.1:"
              + port
              + " (is another Temporal or Ephemera running? set ephemera.temporal.embedded-port)",
          e);
    }
  }

  public List<? extends SocketAddress> listenAddresses() {
    return server.getListenSockets();
  }

  @Override
  public void close() {
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
    }
    services.close();
  }
}
