package io.ephemera.activity.routing;

/**
 * The routing source could not answer (DynamoDB unreachable, throttled, misconfigured). The intake
 * should answer the webhook with a 5xx so GitLab delivers it again, rather than ignore the job.
 */
public class RouteSourceException extends RuntimeException {
  public RouteSourceException(String message, Throwable cause) {
    super(message, cause);
  }
}
