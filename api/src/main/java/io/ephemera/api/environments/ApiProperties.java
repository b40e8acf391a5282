package io.ephemera.api.environments;

import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The REST API's settings, under {@code ephemera.api}.
 *
 * @param tokens bearer tokens accepted on {@code /api/**}; several (comma-separated) allow
 *     rotation. None: every request is refused.
 * @param workerTimeout how long a call that needs a worker (status query, {@code extend}) waits
 *     before answering 503; keeps a request from hanging when no worker polls the task queue
 */
@ConfigurationProperties("ephemera.api")
public record ApiProperties(List<String> tokens, @DefaultValue("10s") Duration workerTimeout) {

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
