package io.ephemera.api.environments;

import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * The REST API's settings, under {@code ephemera.api}.
 *
 * @param tokens bearer tokens accepted on {@code /api/**}; several (comma-separated) allow
 *     rotation. None: every request is refused.
 * @param workerTimeout how long a call that needs a worker (status query, {@code extend}) waits
 *     before answering 503; keeps a request from hanging when no worker polls the task queue
 * @param bodyTimeout how long any request body (webhook deliveries included) may take to arrive in
 *     full; a client trickling it slower is answered 400. Tomcat's connection timeout bounds each
 *     pause, this bounds the whole: GitLab sends a delivery at once and gives up after 10 s.
 * @param maxBody largest REST API body ({@code stop}, {@code extend}); larger is answered 413.
 *     Those bodies are a few dozen bytes, and Spring would otherwise read one of any size into
 *     memory.
 */
@ConfigurationProperties("ephemera.api")
public record ApiProperties(
    List<String> tokens,
    @DefaultValue("10s") Duration workerTimeout,
    @DefaultValue("10s") Duration bodyTimeout,
    @DefaultValue("64KB") DataSize maxBody) {

  public ApiProperties {
    tokens =
        tokens == null
            ? List.of()
            : tokens.stream().filter(t -> t != null && !t.isBlank()).toList();
    if (workerTimeout == null) {
      workerTimeout = Duration.ofSeconds(10);
    }
    if (workerTimeout.isNegative() || workerTimeout.isZero()) {
      throw new IllegalArgumentException(
          "ephemera.api.worker-timeout must be positive, was " + workerTimeout);
    }
    if (bodyTimeout == null) {
      bodyTimeout = Duration.ofSeconds(10);
    }
    if (bodyTimeout.isNegative() || bodyTimeout.isZero()) {
      throw new IllegalArgumentException(
          "ephemera.api.body-timeout must be positive, was " + bodyTimeout);
    }
    if (maxBody == null) {
      maxBody = DataSize.ofKilobytes(64);
    }
    if (maxBody.toBytes() <= 0) {
      throw new IllegalArgumentException("ephemera.api.max-body must be positive, was " + maxBody);
    }
  }

  // The record's toString would print the tokens; config dumps and error messages must not.
  @Override
  public String toString() {
    return "ApiProperties[tokens=("
        + tokens.size()
        + " configured), workerTimeout="
        + workerTimeout
        + "]";
  }
}
