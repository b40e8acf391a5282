package io.ephemera.bench;

import io.ephemera.common.WorkflowIds;
import io.temporal.api.history.v1.HistoryEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * 5,000 review apps opened within one minute with auto-stop 2 minutes and jitter 1 minute: how
 * evenly do their teardowns start? The embedded server runs in real time, so this takes the minutes
 * it says. A teardown starts when the workflow enters STOPPING (history timestamp).
 */
final class TimerHerdBench implements Benchmark {
  static final String NAME = "timer-herd";
  static final long PROJECT = 9300;
  private final Knobs knobs = new Knobs(NAME);

  @Override
  public Report run() throws Exception {
    int apps = knobs.count("apps", 5_000, 20);
    Duration window = knobs.duration("open-window", Duration.ofMinutes(1));
    Duration autoStop = knobs.duration("auto-stop", Duration.ofMinutes(2));
    Duration jitter = knobs.duration("jitter", Duration.ofMinutes(1));
    int cache = knobs.integer("cache", Math.max(600, apps + apps / 20));
    int concurrency = knobs.integer("concurrency", 16);
    Report report = new Report(NAME);
    try (App app =
        App.start(
            NAME,
            Map.of(
                "ephemera.review.auto-stop", autoStop.toString(),
                "ephemera.review.auto-stop-jitter", jitter.toString(),
                // Every app stays cached until its timer fires, as a worker sized for its fleet.
                "ephemera.worker.workflow-cache-size", Integer.toString(cache)))) {
      GitLab gitlab = new GitLab(app);
      long start = System.nanoTime();
      long spacing = window.toNanos() / apps;
      Parallel.run(
          concurrency,
          apps,
          i -> {
            long due = start + i * spacing;
            long wait = due - System.nanoTime();
            if (wait > 0) {
              Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
            long iid = i + 1;
            GitLab.Answer a =
                gitlab.mergeRequest(
                    "herd-" + iid,
                    GitLab.mergeRequest(PROJECT, iid, "open", GitLab.sha(PROJECT, iid, 0), null));
            if (a.status() != 202) {
              throw new IllegalStateException("open " + iid + ": " + a.status() + " " + a.body());
            }
          });
      double openedIn = (System.nanoTime() - start) / 1e9;
      System.out.printf(
          "timer-herd: %d apps opened in %.1f s; waiting for their auto-stops%n", apps, openedIn);
      List<String> ids = new ArrayList<>();
      for (long iid = 1; iid <= apps; iid++) {
        ids.add(WorkflowIds.reviewApp(PROJECT, iid));
      }
      Duration timeout =
          window.plus(autoStop).plus(jitter).plus(knobs.duration("grace", Duration.ofMinutes(10)));
      int running = Workflows.awaitClosed(app.client, ids, timeout).size();

      ConcurrentLinkedQueue<Instant> starts = new ConcurrentLinkedQueue<>();
      Parallel.run(
          4,
          ids.size(),
          i -> {
            List<HistoryEvent> events = Histories.allRuns(app.client, ids.get(i));
            Histories.firstPhase(events, "STOPPING", Instant.EPOCH).ifPresent(starts::add);
          });
      List<Instant> sorted = new ArrayList<>(starts);
      sorted.sort(null);
      if (sorted.isEmpty()) {
        throw new IllegalStateException("no teardown started");
      }
      long first = sorted.get(0).getEpochSecond();
      long last = sorted.get(sorted.size() - 1).getEpochSecond();
      int[] perSecond = new int[(int) (last - first + 1)];
      for (Instant t : sorted) {
        perSecond[(int) (t.getEpochSecond() - first)]++;
      }
      int peak = 0;
      for (int n : perSecond) {
        peak = Math.max(peak, n);
      }
      double mean = sorted.size() / (double) perSecond.length;
      double ratio = peak / mean;

      report
          .table(
              "%d apps opened in %.0f s, auto-stop %s + jitter up to %s"
                  .formatted(apps, openedIn, autoStop, jitter),
              "teardowns started",
              "over",
              "peak per second",
              "mean per second",
              "peak/mean",
              "still running")
          .row(
              sorted.size(),
              perSecond.length + " s",
              peak,
              Report.num(mean),
              Report.num(ratio),
              running);
      StringBuilder h =
          new StringBuilder("Teardown starts per second, from the first (10 per line):\n\n```\n");
      for (int s = 0; s < perSecond.length; s++) {
        if (s % 10 == 0) {
          h.append(String.format("%s+%3ds:", s == 0 ? "" : "\n", s));
        }
        h.append(String.format(" %4d", perSecond[s]));
      }
      h.append("\n```");
      report.note(h.toString());
      report.check(
          "teardown starts peak/mean",
          Report.num(ratio),
          "≤ 2",
          ratio <= 2 && running == 0 && sorted.size() == apps,
          running > 0 ? running + " apps never stopped" : null);
    }
    return report;
  }
}
