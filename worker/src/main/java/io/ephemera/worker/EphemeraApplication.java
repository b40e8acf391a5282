package io.ephemera.worker;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * Ephemera in one executable. Which parts run is chosen by {@code ephemera.roles}: {@code api}
 * (webhooks and REST) and {@code worker} (Temporal worker); both by default.
 */
@SpringBootApplication
@ConfigurationPropertiesScan("io.ephemera.worker")
public class EphemeraApplication {
  public static void main(String[] args) {
    SpringApplication.run(EphemeraApplication.class, args);
  }
}
