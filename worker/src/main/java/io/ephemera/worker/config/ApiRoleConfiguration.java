package io.ephemera.worker.config;

import io.ephemera.api.ApiConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.event.EventListener;
import org.springframework.core.env.Environment;

/** The api role: webhook receiver and REST API. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnRole(Roles.API)
@Import(ApiConfiguration.class)
class ApiRoleConfiguration {
  private static final Logger log = LoggerFactory.getLogger(ApiRoleConfiguration.class);

  @Bean
  GeneratedTokenAnnouncer generatedTokenAnnouncer(Environment env) {
    return new GeneratedTokenAnnouncer(env);
  }

  /** Prints the token the local profile generated, since nobody configured one to know it. */
  record GeneratedTokenAnnouncer(Environment env) {
    @EventListener(ApplicationReadyEvent.class)
    public void announce() {
      if (env.getProperty(EphemeraEnvironmentPostProcessor.GENERATED_TOKEN, Boolean.class, false)) {
        log.warn(
            "REST API token for this run (local profile, generated): {} - use it as"
                + " 'Authorization: Bearer <token>'; set ephemera.api.tokens to choose your own.",
            env.getProperty("ephemera.api.tokens"));
      }
    }
  }
}
