package io.ephemera.worker.chaos;

import io.ephemera.common.Names;
import io.ephemera.common.WorkflowIds;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The workload of one chaos run, generated up front from its seed: which lifecycles, in which
 * order, with which pushes, outcomes, pauses and redeliveries. The same seed gives the same plan.
 */
public record ChaosPlan(long seed, List<Lifecycle> lifecycles) {

  /** Projects review apps are spread over, so several apps share a project as in real life. */
  static final long FIRST_REVIEW_PROJECT = 7300;

  static final int REVIEW_PROJECTS = 6;
  static final long FIRST_RUNNER_PROJECT = 7400;
  static final int RUNNER_PROJECTS = 4;

  /** One lifecycle: a review app or a runner. */
  public sealed interface Lifecycle permits ReviewApp, Runner {
    String workflowId();

    /** The pause before each step, so that some steps race the work of the one before. */
    List<Pause> pauses();
  }

  /**
   * How long to wait before a step: a random time, or until the app or runner is ready (READY,
   * WAITING), so that not every push supersedes a deploy in flight.
   */
  public record Pause(long millis, boolean untilSettled) {}

  /** How a merge request's life ends. */
  public enum End {
    LEFT_OPEN,
    CLOSED,
    MERGED
  }

  /**
   * A merge request: opened at {@code shas[0]}, pushed to with each later SHA, then closed, merged
   * or left open. {@code redeliver[i]} sends delivery {@code i} twice with the same
   * Idempotency-Key.
   */
  public record ReviewApp(
      long project,
      long iid,
      List<String> shas,
      End end,
      List<Pause> pauses,
      List<Boolean> redeliver)
      implements Lifecycle {
    @Override
    public String workflowId() {
      return WorkflowIds.reviewApp(project, iid);
    }

    String path() {
      return "chaos/project-" + project;
    }

    String namespace() {
      return Names.reviewNamespace(project, path(), iid);
    }

    String lastSha() {
      return shas.get(shas.size() - 1);
    }
  }

  /** How a job ends. */
  public enum Outcome {
    SUCCESS,
    FAILED,
    /** Cancelled while its runner ran it. */
    CANCELED_RUNNING,
    /** Cancelled before any runner picked it up. */
    CANCELED_PENDING
  }

  /** A CI job: pending, then (unless cancelled first) running on its runner, then its outcome. */
  public record Runner(
      long project,
      long jobId,
      String jobName,
      Outcome outcome,
      List<Pause> pauses,
      List<Boolean> redeliver)
      implements Lifecycle {
    @Override
    public String workflowId() {
      return WorkflowIds.runner(project, jobId);
    }

    boolean ec2() {
      return jobName.startsWith("ec2-");
    }
  }

  /**
   * {@code count} lifecycles: about 60% review apps (0 to 2 pushes; closed 40%, merged 30%, left
   * open 30%), 40% runners (success 40%, failed 25%, cancelled while running 15%, before pickup
   * 20%; one in five on EC2). One delivery in ten is redelivered.
   */
  public static ChaosPlan generate(long seed, int count) {
    SplittableRandom random = new SplittableRandom(seed);
    List<Lifecycle> out = new ArrayList<>();
    long iid = 1;
    long jobId = 500_000;
    for (int i = 0; i < count; i++) {
      if (random.nextDouble() < 0.6) {
        long project = FIRST_REVIEW_PROJECT + random.nextInt(REVIEW_PROJECTS);
        long mr = iid++;
        int pushes = random.nextInt(3);
        List<String> shas = new ArrayList<>();
        for (int p = 0; p <= pushes; p++) {
          shas.add(sha(seed, project, mr, p));
        }
        double e = random.nextDouble();
        End end = e < 0.4 ? End.CLOSED : e < 0.7 ? End.MERGED : End.LEFT_OPEN;
        int steps = shas.size() + (end == End.LEFT_OPEN ? 0 : 1);
        out.add(
            new ReviewApp(
                project, mr, shas, end, pauses(random, steps), redeliveries(random, steps)));
      } else {
        long project = FIRST_RUNNER_PROJECT + random.nextInt(RUNNER_PROJECTS);
        double o = random.nextDouble();
        Outcome outcome =
            o < 0.4
                ? Outcome.SUCCESS
                : o < 0.65
                    ? Outcome.FAILED
                    : o < 0.8 ? Outcome.CANCELED_RUNNING : Outcome.CANCELED_PENDING;
        String name = random.nextDouble() < 0.2 ? "ec2-chaos" : "chaos-test";
        int steps = outcome == Outcome.CANCELED_PENDING ? 2 : 3;
        out.add(
            new Runner(
                project,
                jobId++,
                name,
                outcome,
                pauses(random, steps),
                redeliveries(random, steps)));
      }
    }
    return new ChaosPlan(seed, List.copyOf(out));
  }

  private static List<Pause> pauses(SplittableRandom random, int steps) {
    List<Pause> out = new ArrayList<>();
    for (int i = 0; i < steps; i++) {
      out.add(new Pause(random.nextInt(400), i > 0 && random.nextDouble() < 0.5));
    }
    return List.copyOf(out);
  }

  private static List<Boolean> redeliveries(SplittableRandom random, int steps) {
    List<Boolean> out = new ArrayList<>();
    for (int i = 0; i < steps; i++) {
      out.add(random.nextDouble() < 0.1);
    }
    return List.copyOf(out);
  }

  /** A 40-hex SHA, unique per (seed, project, MR, push). */
  static String sha(long seed, long project, long iid, int push) {
    SplittableRandom r = new SplittableRandom(seed * 1_000_003L ^ project * 10_007L ^ iid * 31L);
    byte[] b = new byte[20];
    for (int i = 0; i <= push; i++) {
      r.nextBytes(b);
    }
    return HexFormat.of().formatHex(b);
  }

  long reviewApps() {
    return lifecycles.stream().filter(l -> l instanceof ReviewApp).count();
  }

  long runners() {
    return lifecycles.stream().filter(l -> l instanceof Runner).count();
  }
}
