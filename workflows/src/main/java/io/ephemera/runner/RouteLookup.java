package io.ephemera.runner;

import java.util.List;
import java.util.Optional;

/**
 * The routing table, as the api's intake sees it: which runner a job of this project gets, or empty
 * when Ephemera does not serve it. Plain Java (no Temporal): implemented in {@code activities} from
 * a YAML file or a DynamoDB table and handed to the api by the worker's wiring.
 */
public interface RouteLookup {
  Optional<RunnerRoute> route(long projectId, String jobName, List<String> tags);

  /** Whether Ephemera serves runners for this project at all. */
  boolean servesProject(long projectId);
}
