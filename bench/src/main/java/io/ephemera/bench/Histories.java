package io.ephemera.bench;

import io.temporal.api.common.v1.Payload;
import io.temporal.api.common.v1.Payloads;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.History;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.common.converter.DataConverter;
import io.temporal.common.converter.GlobalDataConverter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads what happened, and when, from workflow histories: the server stamps every event, so these
 * times need no polling by the benchmark. All runs of a workflow id are read, following
 * continue-as-new back to the first.
 */
final class Histories {
  private static final DataConverter CONVERTER = GlobalDataConverter.get();

  private Histories() {}

  static List<HistoryEvent> allRuns(WorkflowClient client, String workflowId) {
    List<List<HistoryEvent>> runs = new ArrayList<>();
    History latest = client.fetchHistory(workflowId).getHistory();
    runs.add(latest.getEventsList());
    String previous = continuedFrom(latest.getEventsList());
    while (previous != null && !previous.isEmpty()) {
      History h = client.fetchHistory(workflowId, previous).getHistory();
      runs.add(0, h.getEventsList());
      previous = continuedFrom(h.getEventsList());
    }
    List<HistoryEvent> all = new ArrayList<>();
    runs.forEach(all::addAll);
    return all;
  }

  private static String continuedFrom(List<HistoryEvent> events) {
    if (events.isEmpty()
        || events.get(0).getEventType() != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) {
      return null;
    }
    return events.get(0).getWorkflowExecutionStartedEventAttributes().getContinuedExecutionRunId();
  }

  static Instant time(HistoryEvent e) {
    return Instant.ofEpochSecond(e.getEventTime().getSeconds(), e.getEventTime().getNanos());
  }

  /** Times the workflow entered each phase (the {@code Phase} search attribute), in order. */
  static List<Map.Entry<String, Instant>> phases(List<HistoryEvent> events) {
    List<Map.Entry<String, Instant>> out = new ArrayList<>();
    for (HistoryEvent e : events) {
      if (e.getEventType() != EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES) {
        continue;
      }
      Payload p =
          e.getUpsertWorkflowSearchAttributesEventAttributes()
              .getSearchAttributes()
              .getIndexedFieldsMap()
              .get("Phase");
      if (p != null && !p.getData().isEmpty()) {
        String phase = CONVERTER.fromPayload(p, String.class, String.class);
        out.add(Map.entry(phase, time(e)));
      }
    }
    return out;
  }

  static Optional<Instant> firstPhase(List<HistoryEvent> events, String phase, Instant after) {
    return phases(events).stream()
        .filter(p -> p.getKey().equals(phase) && !p.getValue().isBefore(after))
        .map(Map.Entry::getValue)
        .findFirst();
  }

  /** Signals received, by name, with their first argument decoded as {@code type}. */
  static <T> List<T> signals(List<HistoryEvent> events, String name, Class<T> type) {
    List<T> out = new ArrayList<>();
    for (HistoryEvent e : events) {
      if (e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
          && e.getWorkflowExecutionSignaledEventAttributes().getSignalName().equals(name)) {
        out.add(first(e.getWorkflowExecutionSignaledEventAttributes().getInput(), type));
      }
    }
    return out;
  }

  static <T> T first(Payloads payloads, Class<T> type) {
    return CONVERTER.fromPayloads(0, Optional.of(payloads), type, type);
  }

  /** One activity execution: its type, input, and when it was scheduled, started and closed. */
  record Activity(
      String type,
      Payloads input,
      Payloads result,
      Instant scheduled,
      Instant started,
      Instant closed) {
    double runMillis() {
      return started == null || closed == null ? Double.NaN : millis(started, closed);
    }

    double queueMillis() {
      return started == null ? Double.NaN : millis(scheduled, started);
    }
  }

  /** Every activity with the times of its attempt that closed it. */
  static List<Activity> activities(List<HistoryEvent> events) {
    Map<Long, HistoryEvent> scheduled = new HashMap<>();
    Map<Long, HistoryEvent> started = new HashMap<>();
    List<Activity> out = new ArrayList<>();
    for (HistoryEvent e : events) {
      switch (e.getEventType()) {
        case EVENT_TYPE_ACTIVITY_TASK_SCHEDULED -> scheduled.put(e.getEventId(), e);
        case EVENT_TYPE_ACTIVITY_TASK_STARTED ->
            started.put(e.getActivityTaskStartedEventAttributes().getScheduledEventId(), e);
        case EVENT_TYPE_ACTIVITY_TASK_COMPLETED -> {
          long id = e.getActivityTaskCompletedEventAttributes().getScheduledEventId();
          out.add(
              activity(
                  scheduled.get(id),
                  started.get(id),
                  e,
                  e.getActivityTaskCompletedEventAttributes().getResult()));
        }
        case EVENT_TYPE_ACTIVITY_TASK_FAILED ->
            out.add(
                activity(
                    scheduled.get(e.getActivityTaskFailedEventAttributes().getScheduledEventId()),
                    started.get(e.getActivityTaskFailedEventAttributes().getScheduledEventId()),
                    e,
                    null));
        case EVENT_TYPE_ACTIVITY_TASK_CANCELED ->
            out.add(
                activity(
                    scheduled.get(e.getActivityTaskCanceledEventAttributes().getScheduledEventId()),
                    started.get(e.getActivityTaskCanceledEventAttributes().getScheduledEventId()),
                    e,
                    null));
        default -> {}
      }
    }
    return out;
  }

  private static Activity activity(
      HistoryEvent scheduled, HistoryEvent started, HistoryEvent closed, Payloads result) {
    var attrs = scheduled.getActivityTaskScheduledEventAttributes();
    return new Activity(
        attrs.getActivityType().getName(),
        attrs.getInput(),
        result,
        time(scheduled),
        started == null ? null : time(started),
        time(closed));
  }

  static double millis(Instant from, Instant to) {
    return (to.toEpochMilli() - from.toEpochMilli())
        + ((to.getNano() % 1_000_000) - (from.getNano() % 1_000_000)) / 1e6;
  }
}
