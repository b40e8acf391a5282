package io.ephemera.runner;

import java.util.List;

/**
 * Input of {@link RunnerSlotsWorkflow}; {@code holders} and {@code queue} are carried over
 * continue-as-new (empty on the first run).
 */
public record RunnerSlotsRequest(long projectId, List<String> holders, List<String> queue) {
  public RunnerSlotsRequest {
    holders = holders == null ? List.of() : List.copyOf(holders);
    queue = queue == null ? List.of() : List.copyOf(queue);
  }
}
