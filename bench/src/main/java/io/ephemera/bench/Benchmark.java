package io.ephemera.bench;

/** One benchmark: boots what it needs, measures, and answers its report. */
interface Benchmark {
  Report run() throws Exception;

  /** The benchmark cannot run on this build (a missing part), as opposed to missing its target. */
  final class CannotRun extends Exception {
    CannotRun(String message) {
      super(message);
    }
  }
}
