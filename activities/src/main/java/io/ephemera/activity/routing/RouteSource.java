package io.ephemera.activity.routing;

import io.ephemera.runner.RunnerRoute;
import java.util.Collection;
import java.util.Optional;

/**
 * Where routes come from: the configured rules ({@link RouteTable}) or a DynamoDB table ({@link
 * DynamoDbRouteSource}). Empty means no route for the job; a source that cannot answer throws
 * {@link RouteSourceException}, so a job is never ignored because a table was unreachable.
 */
public interface RouteSource {
  Optional<RunnerRoute> route(String jobName, Collection<String> tags);
}
