package io.ephemera.worker.config;

import com.google.protobuf.ByteString;
import io.grpc.Context;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.temporal.api.command.v1.Command;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.CommandType;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.QueryResultType;
import io.temporal.api.enums.v1.TaskQueueKind;
import io.temporal.api.enums.v1.WorkflowTaskFailedCause;
import io.temporal.api.failure.v1.Failure;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.taskqueue.v1.StickyExecutionAttributes;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflow.v1.PendingActivityInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryRequest;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryResponse;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueRequest;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueResponse;
import io.temporal.api.workflowservice.v1.RespondActivityTaskCanceledByIdRequest;
import io.temporal.api.workflowservice.v1.RespondActivityTaskFailedRequest;
import io.temporal.api.workflowservice.v1.RespondActivityTaskFailedResponse;
import io.temporal.api.workflowservice.v1.RespondQueryTaskCompletedRequest;
import io.temporal.api.workflowservice.v1.RespondWorkflowTaskCompletedRequest;
import io.temporal.api.workflowservice.v1.RespondWorkflowTaskFailedRequest;
import io.temporal.api.workflowservice.v1.RespondWorkflowTaskFailedResponse;
import io.temporal.api.workflowservice.v1.ShutdownWorkerRequest;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Works around two gaps of the SDK's test server, which is the embedded Temporal of the {@code
 * local} profile, so that it behaves as a real server where Ephemera relies on it.
 *
 * <p><b>temporalio/sdk-java#2391.</b> When a workflow task cancels an activity that completed while
 * the task ran (a push or a stop cancelling a deploy step at the moment it finishes), a real server
 * records the cancel request and the completion and carries on. The test server instead refuses the
 * task with {@code FAILED_PRECONDITION: ACTIVITY_UNKNOWN} after it has already moved its
 * workflow-task state forward, and keeps the completion buffered: no new task is ever scheduled,
 * every later task issues the cancel again, and the workflow is wedged for good (a review app stays
 * DEPLOYING with its stop reason set). Before a task completion that cancels activities reaches the
 * server, this guard asks the server which of them are still pending; if one is not, it fails the
 * workflow task instead ({@code RespondWorkflowTaskFailed}, cause {@code UNHANDLED_COMMAND}), which
 * flushes the buffered completion and schedules a new task, and answers the worker {@code
 * NOT_FOUND}, so that the worker drops its cached state and replays; the new task sees the activity
 * completed and issues no cancel. Activity completions wait while a guarded task completion is
 * checked and applied, so one cannot slip in between. This relies on the test server's workflow
 * task token layout (namespace, workflow id, run id) and does nothing when it cannot read it.
 *
 * <p><b>Sticky queues of a stopped worker.</b> A real server answers a worker's {@code
 * ShutdownWorker} by sending that worker's sticky queue's work to the normal queue, and falls back
 * to the normal queue for any query its sticky worker does not pick up. The test server does
 * neither for queries: after a worker restart (the same process stopping its worker and starting a
 * new one) every {@code status()} query of an idle workflow went to the old worker's sticky queue
 * and was never answered, and a workflow task already queued there was never started (the workflow
 * stalled until the end of time). On {@code ShutdownWorker} the guard clears that sticky queue from
 * every execution, through the test server's internals (reflection; logged and skipped if they
 * change), then drains it through the server's public calls: each queued workflow task is failed
 * with {@code RESET_STICKY_TASK_QUEUE}, so a new one goes to the normal queue; and a task the
 * stopping worker still completes during its grace period has its sticky attributes removed, so
 * that it does not point the workflow back at that queue.
 *
 * <p><b>Activities whose cancellation was requested.</b> The test server never times such an
 * activity out, and one in retry backoff when the request comes is neither retried nor cancelled;
 * with {@code WAIT_CANCELLATION_COMPLETED} (Ephemera's choice, so a superseded apply never lands
 * late) its workflow waits for good. After the activity's start-to-close timeout, counted from the
 * request, the guard reports an activity still unfinished as cancelled on its worker's behalf
 * ({@code RespondActivityTaskCanceledById}), where a real server would have cancelled or timed it
 * out. And an attempt that fails after the request is reported as cancelled: the test server would
 * drop the activity without an event (see {@code reportedAsCancelled}).
 */
final class EmbeddedServerGuard implements ServerInterceptor {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedServerGuard.class);

  private static final String SHUTDOWN_WORKER =
      WorkflowServiceGrpc.getShutdownWorkerMethod().getFullMethodName();

  private static final String COMPLETE_WORKFLOW_TASK =
      WorkflowServiceGrpc.getRespondWorkflowTaskCompletedMethod().getFullMethodName();

  private static final Set<String> ACTIVITY_RESULTS =
      Set.of(
          WorkflowServiceGrpc.getRespondActivityTaskCompletedMethod().getFullMethodName(),
          WorkflowServiceGrpc.getRespondActivityTaskCompletedByIdMethod().getFullMethodName(),
          WorkflowServiceGrpc.getRespondActivityTaskFailedMethod().getFullMethodName(),
          WorkflowServiceGrpc.getRespondActivityTaskFailedByIdMethod().getFullMethodName(),
          WorkflowServiceGrpc.getRespondActivityTaskCanceledMethod().getFullMethodName(),
          WorkflowServiceGrpc.getRespondActivityTaskCanceledByIdMethod().getFullMethodName());

  private final WorkflowServiceGrpc.WorkflowServiceImplBase server;
  private final ReadWriteLock lock = new ReentrantReadWriteLock();
  private final AtomicLong averted = new AtomicLong();
  private final AtomicLong stickyReleased = new AtomicLong();
  private final AtomicLong stickyTasksMoved = new AtomicLong();
  private final AtomicLong stuckCancelsEnded = new AtomicLong();
  private final AtomicLong failuresReportedAsCancelled = new AtomicLong();

  /** "runId/scheduledEventId" of activities whose cancellation the guard saw requested. */
  private final Set<String> cancelRequested = ConcurrentHashMap.newKeySet();

  /** Sticky queues of workers that said they are stopping; a few per restart, never reused. */
  private final Set<String> stoppedStickyQueues = ConcurrentHashMap.newKeySet();

  private final ScheduledExecutorService drainScheduler =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "embedded-temporal-guard");
            t.setDaemon(true);
            return t;
          });
  private final AtomicBoolean stickyWarned = new AtomicBoolean();

  EmbeddedServerGuard(WorkflowServiceGrpc.WorkflowServiceImplBase server) {
    this.server = server;
  }

  /** Workflow tasks failed instead of wedging their workflow, since start. */
  long averted() {
    return averted.get();
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    if (SHUTDOWN_WORKER.equals(method)) {
      return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
          next.startCall(call, headers)) {
        private ShutdownWorkerRequest request;

        @Override
        public void onMessage(ReqT message) {
          if (message instanceof ShutdownWorkerRequest r) {
            request = r;
          }
          super.onMessage(message);
        }

        @Override
        public void onHalfClose() {
          super.onHalfClose();
          if (request != null && !request.getStickyTaskQueue().isEmpty()) {
            stoppedStickyQueues.add(request.getStickyTaskQueue());
            releaseStickyQueue(request.getStickyTaskQueue());
            drainStickyQueue(request.getNamespace(), request.getStickyTaskQueue());
          }
        }
      };
    }
    boolean completion = COMPLETE_WORKFLOW_TASK.equals(method);
    if (!completion && !ACTIVITY_RESULTS.contains(method)) {
      return next.startCall(call, headers);
    }
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
        next.startCall(call, headers)) {
      private ReqT request;

      @Override
      @SuppressWarnings("unchecked")
      public void onMessage(ReqT message) {
        if (message instanceof RespondWorkflowTaskCompletedRequest r
            && r.hasStickyAttributes()
            && stoppedStickyQueues.contains(
                r.getStickyAttributes().getWorkerTaskQueue().getName())) {
          // A task a stopping worker finished during its grace period: its stickiness would point
          // the workflow back at the queue just drained.
          message = (ReqT) r.toBuilder().clearStickyAttributes().build();
        }
        request = message;
        super.onMessage(message);
      }

      /** A unary call's handler runs here, on this thread: the lock covers the whole update. */
      @Override
      public void onHalfClose() {
        if (request instanceof RespondActivityTaskFailedRequest f) {
          var held = lock.readLock();
          held.lock();
          try {
            if (reportedAsCancelled(f)) {
              answer(call, RespondActivityTaskFailedResponse.getDefaultInstance());
              return;
            }
            super.onHalfClose();
          } finally {
            held.unlock();
          }
          return;
        }
        if (!completion
            || !(request instanceof RespondWorkflowTaskCompletedRequest r)
            || cancelledActivities(r).isEmpty()) {
          var held = lock.readLock();
          held.lock();
          try {
            super.onHalfClose();
          } finally {
            held.unlock();
          }
          return;
        }
        var held = lock.writeLock();
        held.lock();
        try {
          List<Watch> watches = new ArrayList<>();
          String stale = staleCancel(r, watches);
          if (stale == null) {
            watches.forEach(
                w -> cancelRequested.add(w.execution().getRunId() + "/" + w.scheduledEventId()));
            super.onHalfClose();
            watches.forEach(w -> watch(w, 0));
            return;
          }
          failTask(r, stale);
          call.close(
              Status.NOT_FOUND.withDescription(
                  "workflow task failed by the embedded server: it cancels "
                      + stale
                      + " (temporalio/sdk-java#2391); a new task follows"),
              new Metadata());
        } finally {
          held.unlock();
        }
      }
    };
  }

  /**
   * Clears {@code stickyQueue} from every execution of the test server that names it, so that its
   * queries and tasks go to the normal queue. Reflection on the SDK's test server (pinned by the
   * Temporal BOM); when its internals differ, logs once and does nothing.
   */
  private void releaseStickyQueue(String stickyQueue) {
    try {
      Field executions = server.getClass().getDeclaredField("executions");
      Field serviceLock = server.getClass().getDeclaredField("lock");
      executions.setAccessible(true);
      serviceLock.setAccessible(true);
      List<Object> states;
      Lock lock = (Lock) serviceLock.get(server);
      lock.lock();
      try {
        states = new ArrayList<>(((Map<?, ?>) executions.get(server)).values());
      } finally {
        lock.unlock();
      }
      int released = 0;
      for (Object state : states) {
        Field sticky = state.getClass().getDeclaredField("stickyExecutionAttributes");
        Field stateLock = state.getClass().getDeclaredField("lock");
        sticky.setAccessible(true);
        stateLock.setAccessible(true);
        Lock l = (Lock) stateLock.get(state);
        l.lock();
        try {
          Object attributes = sticky.get(state);
          if (attributes instanceof StickyExecutionAttributes a
              && stickyQueue.equals(a.getWorkerTaskQueue().getName())) {
            sticky.set(state, null);
            released++;
          }
        } finally {
          l.unlock();
        }
      }
      stickyReleased.addAndGet(released);
      log.debug(
          "Embedded Temporal: released sticky queue {} of {} workflows", stickyQueue, released);
    } catch (ReflectiveOperationException | RuntimeException e) {
      if (stickyWarned.compareAndSet(false, true)) {
        log.warn(
            "Embedded Temporal: cannot release the sticky queue of a stopped worker ({}); queries"
                + " of idle workflows may go unanswered until their next task",
            e.toString());
      }
    }
  }

  /**
   * Hands every task already queued on a stopped worker's sticky queue back to the server: a
   * workflow task is failed ({@code RESET_STICKY_TASK_QUEUE}, which schedules a new one on the
   * normal queue, its sticky attributes now cleared); a query is answered with an error instead of
   * never. Only the server's public calls, polled with a short deadline until the queue is empty.
   */
  private void drainStickyQueue(String namespace, String stickyQueue) {
    for (int i = 0; i < 10_000; i++) {
      PollWorkflowTaskQueueResponse task;
      try {
        task =
            Context.current()
                .withDeadlineAfter(200, TimeUnit.MILLISECONDS, drainScheduler)
                .call(
                    () ->
                        call(
                            o ->
                                server.pollWorkflowTaskQueue(
                                    PollWorkflowTaskQueueRequest.newBuilder()
                                        .setNamespace(namespace)
                                        .setTaskQueue(
                                            TaskQueue.newBuilder()
                                                .setName(stickyQueue)
                                                .setKind(TaskQueueKind.TASK_QUEUE_KIND_STICKY))
                                        .setIdentity("ephemera-embedded-server-guard")
                                        .build(),
                                    o)));
      } catch (Exception e) {
        log.debug("Draining sticky queue {} stopped: {}", stickyQueue, e.toString());
        return;
      }
      if (task.getTaskToken().isEmpty()) {
        return;
      }
      try {
        if (task.hasQuery()) {
          EmbeddedServerGuard
              .<io.temporal.api.workflowservice.v1.RespondQueryTaskCompletedResponse>call(
                  o ->
                      server.respondQueryTaskCompleted(
                          RespondQueryTaskCompletedRequest.newBuilder()
                              .setNamespace(namespace)
                              .setTaskToken(task.getTaskToken())
                              .setCompletedType(QueryResultType.QUERY_RESULT_TYPE_FAILED)
                              .setErrorMessage(
                                  "the worker holding this workflow stopped; ask again")
                              .build(),
                          o));
        } else {
          stickyTasksMoved.incrementAndGet();
          EmbeddedServerGuard.<RespondWorkflowTaskFailedResponse>call(
              o ->
                  server.respondWorkflowTaskFailed(
                      RespondWorkflowTaskFailedRequest.newBuilder()
                          .setNamespace(namespace)
                          .setTaskToken(task.getTaskToken())
                          .setIdentity("ephemera-embedded-server-guard")
                          .setCause(
                              WorkflowTaskFailedCause
                                  .WORKFLOW_TASK_FAILED_CAUSE_RESET_STICKY_TASK_QUEUE)
                          .build(),
                      o));
        }
      } catch (RuntimeException e) {
        log.debug("Cannot hand back a task of sticky queue {}: {}", stickyQueue, e.toString());
      }
    }
  }

  /** Workflow tasks moved off a stopped worker's sticky queue, since start. */
  long stickyTasksMoved() {
    return stickyTasksMoved.get();
  }

  /** Executions whose sticky queue was released because its worker stopped, since start. */
  long stickyReleased() {
    return stickyReleased.get();
  }

  /** Answers a unary call with {@code response} without passing it on. */
  @SuppressWarnings("unchecked")
  private static void answer(ServerCall<?, ?> call, Object response) {
    ServerCall<?, Object> raw = (ServerCall<?, Object>) call;
    raw.sendHeaders(new Metadata());
    raw.sendMessage(response);
    raw.close(Status.OK, new Metadata());
  }

  private static Set<Long> cancelledActivities(RespondWorkflowTaskCompletedRequest r) {
    Set<Long> ids = new HashSet<>();
    for (Command c : r.getCommandsList()) {
      if (c.getCommandType() == CommandType.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK) {
        ids.add(c.getRequestCancelActivityTaskCommandAttributes().getScheduledEventId());
      }
    }
    return ids;
  }

  /**
   * The first cancelled activity that is no longer pending (described for the log), or null when
   * all are pending or the check cannot be made (then the server decides, as without the guard).
   */
  private String staleCancel(RespondWorkflowTaskCompletedRequest r, List<Watch> watches) {
    try {
      WorkflowExecution execution = execution(r.getTaskToken());
      String namespace = r.getNamespace();
      Set<String> pending = new HashSet<>();
      DescribeWorkflowExecutionResponse described =
          call(
              o ->
                  server.describeWorkflowExecution(
                      DescribeWorkflowExecutionRequest.newBuilder()
                          .setNamespace(namespace)
                          .setExecution(execution)
                          .build(),
                      o));
      for (PendingActivityInfo p : described.getPendingActivitiesList()) {
        pending.add(p.getActivityId());
      }
      Set<Long> cancelled = cancelledActivities(r);
      ByteString page = ByteString.EMPTY;
      do {
        ByteString token = page;
        GetWorkflowExecutionHistoryResponse h =
            call(
                o ->
                    server.getWorkflowExecutionHistory(
                        GetWorkflowExecutionHistoryRequest.newBuilder()
                            .setNamespace(namespace)
                            .setExecution(execution)
                            .setNextPageToken(token)
                            .build(),
                        o));
        for (HistoryEvent e : h.getHistory().getEventsList()) {
          if (cancelled.contains(e.getEventId()) && e.hasActivityTaskScheduledEventAttributes()) {
            String activityId = e.getActivityTaskScheduledEventAttributes().getActivityId();
            watches.add(
                new Watch(
                    namespace,
                    execution,
                    activityId,
                    e.getEventId(),
                    com.google.protobuf.util.Durations.toMillis(
                        e.getActivityTaskScheduledEventAttributes().getStartToCloseTimeout())));
            if (!pending.contains(activityId)) {
              return "activity "
                  + activityId
                  + " (scheduled as event "
                  + e.getEventId()
                  + ") of "
                  + execution.getWorkflowId()
                  + ", which already finished";
            }
          }
        }
        page = h.getNextPageToken();
      } while (!page.isEmpty());
      return null;
    } catch (RuntimeException | IOException e) {
      log.warn(
          "Cannot check the activities a workflow task cancels; passing it on: {}", e.toString());
      return null;
    }
  }

  /**
   * Gap four: the test server refuses a retryable failure of an activity whose cancellation was
   * requested (its state machine allows only a final failure there) after dropping the activity
   * from its pending set, so the activity is gone, no event says so, and the workflow waiting for
   * the cancellation to complete waits for good. The attempt ended after the cancel request: it is
   * reported as cancelled instead (with the same task token), which is what the workflow asked for.
   */
  private boolean reportedAsCancelled(RespondActivityTaskFailedRequest f) {
    String key;
    try (DataInputStream in =
        new DataInputStream(new ByteArrayInputStream(f.getTaskToken().toByteArray()))) {
      in.readUTF();
      in.readUTF();
      String runId = in.readUTF();
      key = runId + "/" + in.readLong();
    } catch (IOException | RuntimeException e) {
      return false;
    }
    if (!cancelRequested.contains(key)) {
      return false;
    }
    try {
      EmbeddedServerGuard
          .<io.temporal.api.workflowservice.v1.RespondActivityTaskCanceledResponse>call(
              o ->
                  server.respondActivityTaskCanceled(
                      io.temporal.api.workflowservice.v1.RespondActivityTaskCanceledRequest
                          .newBuilder()
                          .setNamespace(f.getNamespace())
                          .setTaskToken(f.getTaskToken())
                          .setIdentity(f.getIdentity())
                          .build(),
                      o));
      failuresReportedAsCancelled.incrementAndGet();
      log.debug(
          "Embedded Temporal: a failed attempt of cancelled activity {} reported cancelled", key);
      return true;
    } catch (RuntimeException e) {
      log.debug("Cannot report activity {} cancelled: {}", key, e.toString());
      return false;
    }
  }

  /** Failed attempts of cancel-requested activities reported as cancelled, since start. */
  long failuresReportedAsCancelled() {
    return failuresReportedAsCancelled.get();
  }

  /** An activity whose cancellation was requested, to be ended if nobody ends it. */
  private record Watch(
      String namespace,
      WorkflowExecution execution,
      String activityId,
      long scheduledEventId,
      long startToCloseMillis) {}

  /**
   * Gap three of the test server: an activity whose cancellation was requested is never timed out,
   * and one whose attempt failed before the request is never retried nor cancelled; with
   * cancellation type WAIT_CANCELLATION_COMPLETED its workflow then waits for good. A real server
   * cancels an activity that is not running at once, and times out a running one. After the
   * activity's start-to-close timeout (counted from the request, so never before a real server
   * would act), an activity still unfinished is reported cancelled on behalf of its worker.
   */
  private void watch(Watch w, int round) {
    long delay = Math.max(1_000, w.startToCloseMillis()) + 1_000;
    drainScheduler.schedule(() -> endIfStuck(w, round), delay, TimeUnit.MILLISECONDS);
  }

  private void endIfStuck(Watch w, int round) {
    try {
      boolean requested = false;
      boolean finished = false;
      ByteString page = ByteString.EMPTY;
      do {
        ByteString token = page;
        GetWorkflowExecutionHistoryResponse h =
            call(
                o ->
                    server.getWorkflowExecutionHistory(
                        GetWorkflowExecutionHistoryRequest.newBuilder()
                            .setNamespace(w.namespace())
                            .setExecution(w.execution())
                            .setNextPageToken(token)
                            .build(),
                        o));
        for (HistoryEvent e : h.getHistory().getEventsList()) {
          requested |= closes(e) == 0 && cancelRequestOf(e) == w.scheduledEventId();
          finished |= closes(e) == w.scheduledEventId();
          if (e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
              || e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
              || e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED
              || e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED
              || e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED
              || e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT) {
            finished = true;
          }
        }
        page = h.getNextPageToken();
      } while (!page.isEmpty());
      if (!requested || finished) {
        return;
      }
      EmbeddedServerGuard
          .<io.temporal.api.workflowservice.v1.RespondActivityTaskCanceledByIdResponse>call(
              o ->
                  server.respondActivityTaskCanceledById(
                      RespondActivityTaskCanceledByIdRequest.newBuilder()
                          .setNamespace(w.namespace())
                          .setWorkflowId(w.execution().getWorkflowId())
                          .setRunId(w.execution().getRunId())
                          .setActivityId(w.activityId())
                          .setIdentity("ephemera-embedded-server-guard")
                          .build(),
                      o));
      stuckCancelsEnded.incrementAndGet();
      log.info(
          "Embedded Temporal: ended activity {} of {}, cancel requested and unfinished after its"
              + " start-to-close timeout (a real server would have)",
          w.activityId(),
          w.execution().getWorkflowId());
    } catch (RuntimeException e) {
      if (round < 3) {
        watch(w, round + 1);
      } else {
        log.warn("Giving up on activity {}: {}", w.activityId(), e.toString());
      }
    }
  }

  private static long cancelRequestOf(HistoryEvent e) {
    return e.hasActivityTaskCancelRequestedEventAttributes()
        ? e.getActivityTaskCancelRequestedEventAttributes().getScheduledEventId()
        : -1;
  }

  /** The scheduled event id of the activity {@code e} ends, or 0. */
  private static long closes(HistoryEvent e) {
    if (e.hasActivityTaskCompletedEventAttributes()) {
      return e.getActivityTaskCompletedEventAttributes().getScheduledEventId();
    }
    if (e.hasActivityTaskFailedEventAttributes()) {
      return e.getActivityTaskFailedEventAttributes().getScheduledEventId();
    }
    if (e.hasActivityTaskTimedOutEventAttributes()) {
      return e.getActivityTaskTimedOutEventAttributes().getScheduledEventId();
    }
    if (e.hasActivityTaskCanceledEventAttributes()) {
      return e.getActivityTaskCanceledEventAttributes().getScheduledEventId();
    }
    return 0;
  }

  /** Activities the guard ended after their cancel request went unanswered, since start. */
  long stuckCancelsEnded() {
    return stuckCancelsEnded.get();
  }

  private void failTask(RespondWorkflowTaskCompletedRequest r, String stale) {
    averted.incrementAndGet();
    log.info(
        "Embedded Temporal: failing a workflow task that cancels {} (temporalio/sdk-java#2391);"
            + " the workflow gets a new task",
        stale);
    RespondWorkflowTaskFailedResponse ignored =
        call(
            o ->
                server.respondWorkflowTaskFailed(
                    RespondWorkflowTaskFailedRequest.newBuilder()
                        .setNamespace(r.getNamespace())
                        .setTaskToken(r.getTaskToken())
                        .setIdentity(r.getIdentity())
                        .setCause(
                            WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND)
                        .setFailure(
                            Failure.newBuilder()
                                .setMessage(
                                    "cancel of an activity that completed during the task"
                                        + " (embedded server guard, temporalio/sdk-java#2391)"))
                        .build(),
                    o));
  }

  /** The test server's workflow task token starts with namespace, workflow id and run id. */
  private static WorkflowExecution execution(ByteString token) throws IOException {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(token.toByteArray()))) {
      in.readUTF();
      String workflowId = in.readUTF();
      String runId = in.readUTF();
      return WorkflowExecution.newBuilder().setWorkflowId(workflowId).setRunId(runId).build();
    }
  }

  /** Calls a unary method of the in-process server and waits (briefly) for its answer. */
  private static <T> T call(java.util.function.Consumer<StreamObserver<T>> method) {
    CompletableFuture<T> answer = new CompletableFuture<>();
    method.accept(
        new StreamObserver<>() {
          @Override
          public void onNext(T value) {
            answer.complete(value);
          }

          @Override
          public void onError(Throwable t) {
            answer.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            answer.completeExceptionally(new IllegalStateException("no answer"));
          }
        });
    try {
      return answer.get(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(e);
    }
  }
}
