package io.ephemera.bench;

import io.temporal.client.WorkflowClient;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Ephemera in this JVM as {@code java -jar ephemera.jar --spring.profiles.active=local} runs it:
 * embedded Temporal, sandbox cluster, GitLab and EC2, web server on a free loopback port.
 *
 * <p>Every sandbox delay is zero, so the figures are Ephemera's own time and not a simulated
 * cluster's. A benchmark adds its own settings; {@code -Dephemera.…} on the command line wins over
 * both, so any knob of the application can be turned without editing a benchmark.
 */
final class App implements AutoCloseable {
  /** The worker module's application class, named because the worker is a runtime dependency. */
  static final String APPLICATION = "io.ephemera.worker.EphemeraApplication";

  static final String API_TOKEN = "bench-api-token";

  private final ConfigurableApplicationContext context;
  final int port;
  final WorkflowClient client;
  final String webhookToken;

  private App(ConfigurableApplicationContext context) {
    this.context = context;
    this.port = Integer.parseInt(context.getEnvironment().getRequiredProperty("local.server.port"));
    this.client = context.getBean(WorkflowClient.class);
    this.webhookToken =
        context.getEnvironment().getRequiredProperty("ephemera.gitlab.webhook-token").split(",")[0];
  }

  static Map<String, String> defaults(String benchmark) {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("spring.profiles.active", "local");
    p.put("server.port", "0");
    p.put("server.address", "127.0.0.1");
    p.put("ephemera.temporal.embedded-port", "0");
    p.put("ephemera.api.tokens", API_TOKEN);
    // Sandboxes answer at once: what is measured is Ephemera, not a simulated cluster's clock.
    p.put("ephemera.sandbox.kubernetes.rollout-delay", "0s");
    p.put("ephemera.sandbox.ec2.state-delay", "0s");
    // Not on every build yet (the image build step); harmless where nothing reads it.
    p.put("ephemera.sandbox.kubernetes.build-delay", "0s");
    // The application logs as in production (INFO, one line per delivery), to a file: the console
    // is for the benchmark's table.
    String results = System.getProperty("bench.results", "bench/results");
    p.put("logging.file.name", results + "/" + benchmark + ".log");
    p.put("logging.threshold.console", "WARN");
    p.put("spring.main.banner-mode", "off");
    return p;
  }

  static App start(String benchmark, Map<String, String> settings) throws Exception {
    Map<String, String> all = defaults(benchmark);
    all.putAll(settings);
    // -Dephemera.x=y (and spring., logging., server.) from the command line win over everything.
    for (String key : System.getProperties().stringPropertyNames()) {
      if (key.startsWith("ephemera.")
          || key.startsWith("spring.")
          || key.startsWith("logging.")
          || key.startsWith("server.")) {
        all.put(key, System.getProperty(key));
      }
    }
    List<String> args = new ArrayList<>();
    all.forEach((k, v) -> args.add("--" + k + "=" + v));
    Class<?> application;
    try {
      application = Class.forName(APPLICATION);
    } catch (ClassNotFoundException e) {
      throw new Benchmark.CannotRun(
          APPLICATION + " is not on the class path: run the benchmarks with bench/run.sh");
    }
    SpringApplication app = new SpringApplication(application);
    System.out.println("Starting Ephemera (local profile) with " + settings);
    return new App(app.run(args.toArray(String[]::new)));
  }

  <T> T bean(Class<T> type) {
    return context.getBean(type);
  }

  /** A bean by its name, e.g. the worker's lifecycle ({@code ephemeraWorker}). */
  <T> T bean(String name, Class<T> type) {
    return context.getBean(name, type);
  }

  <T> Optional<T> optionalBean(Class<T> type) {
    return context.getBeanProvider(type).stream().findFirst();
  }

  /** A bean by the name of its type, for parts that are not on every build. */
  Optional<Object> beanOfTypeNamed(String className) {
    try {
      Class<?> type = Class.forName(className);
      return context.getBeanProvider(type).stream().findFirst().map(Object.class::cast);
    } catch (ClassNotFoundException e) {
      return Optional.empty();
    }
  }

  String property(String key) {
    return context.getEnvironment().getProperty(key);
  }

  @Override
  public void close() {
    context.close();
  }
}
