package io.ephemera.worker.config;

import io.temporal.api.workflowservice.v1.GetSystemInfoRequest;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.spring.boot.TemporalOptionsCustomizer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Client-side Temporal settings shared by both roles. */
@Configuration(proxyBeanMethods = false)
class TemporalClientConfiguration {

  /**
   * GitLab gives a webhook 10 s and disables it after four failures, so an RPC that has not
   * answered in 5 s is abandoned and the delivery answered 503, leaving time to spare.
   */
  @Bean
  TemporalOptionsCustomizer<WorkflowServiceStubsOptions.Builder> ephemeraRpcTimeout() {
    return builder -> builder.setRpcTimeout(Duration.ofSeconds(5));
  }

  /** {@code /actuator/health} reports whether the Temporal frontend answers. */
  @Bean
  HealthIndicator temporal(WorkflowServiceStubs stubs) {
    return () -> {
      try {
        var info =
            stubs
                .blockingStub()
                .withDeadlineAfter(2, TimeUnit.SECONDS)
                .getSystemInfo(GetSystemInfoRequest.getDefaultInstance());
        return Health.up().withDetail("serverVersion", info.getServerVersion()).build();
      } catch (RuntimeException e) {
        return Health.down().withDetail("error", e.getMessage()).build();
      }
    };
  }
}
