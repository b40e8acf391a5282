package io.ephemera.runner;

/** Where a single-use runner runs. Stored in history: never rename. */
public enum RunnerType {
  KUBERNETES,
  EC2
}
