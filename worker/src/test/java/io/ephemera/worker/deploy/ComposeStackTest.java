package io.ephemera.worker.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.Reader;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.yaml.snakeyaml.Yaml;

/**
 * deploy/compose/docker-compose.yaml has the services and wiring the local stack needs. Docker
 * cannot run here, so this checks what would break it: names and ports that must agree.
 */
class ComposeStackTest {
  static final Path COMPOSE = Path.of("..", "deploy", "compose");
  static Map<String, Object> services;

  @BeforeAll
  @SuppressWarnings("unchecked")
  static void load() throws Exception {
    try (Reader r = Files.newBufferedReader(COMPOSE.resolve("docker-compose.yaml"))) {
      Map<String, Object> compose = new Yaml().load(r);
      services = (Map<String, Object>) compose.get("services");
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> service(String name) {
    assertThat(services).containsKey(name);
    return (Map<String, Object>) services.get(name);
  }

  @SuppressWarnings("unchecked")
  static Map<String, String> env(String service) {
    return (Map<String, String>) service(service).get("environment");
  }

  /** The host port published for {@code containerPort}. */
  @SuppressWarnings("unchecked")
  static int published(String service, int containerPort) {
    for (String mapping : (List<String>) service(service).get("ports")) {
      String[] parts = mapping.split(":");
      if (Integer.parseInt(parts[parts.length - 1]) == containerPort) {
        return Integer.parseInt(parts[parts.length - 2]);
      }
    }
    throw new AssertionError(service + " publishes no port " + containerPort);
  }

  @Test
  void theStackHasItsServices() {
    assertThat(services)
        .containsKeys("postgresql", "temporal", "temporal-ui", "vault", "vault-setup", "ephemera");
    assertThat(env("temporal")).containsEntry("DB", "postgres12");
    assertThat(env("temporal").get("POSTGRES_SEEDS")).isEqualTo("postgresql");
    assertThat(env("temporal").get("POSTGRES_PWD"))
        .isEqualTo(env("postgresql").get("POSTGRES_PASSWORD"));
    assertThat(service("vault").get("command").toString()).contains("-dev");
  }

  @Test
  void ephemeraIsTheJibImageAndTalksToTheStacksTemporalAndVault() {
    assertThat((String) service("ephemera").get("image"))
        .startsWith(HelmChartTest.jibImage() + ":");
    String target = env("ephemera").get("EPHEMERA_TEMPORAL_TARGET");
    assertThat(target).isEqualTo("temporal:7233");
    assertThat(published("temporal", 7233)).isEqualTo(7233);
    URI vault = URI.create(env("ephemera").get("EPHEMERA_VAULT_ADDRESS"));
    assertThat(vault.getHost()).isEqualTo("vault");
    assertThat(service("vault").get("command").toString())
        .contains("-dev-listen-address=0.0.0.0:" + vault.getPort());
    assertThat(env("vault-setup").get("VAULT_ADDR")).isEqualTo(vault.toString());
    // AppRole credentials the setup script sets are the ones Ephemera logs in with.
    assertThat(env("ephemera").get("EPHEMERA_VAULT_AUTH_APPROLE_ROLEID"))
        .isEqualTo(env("vault-setup").get("EPHEMERA_APPROLE_ROLE_ID"));
    assertThat(env("ephemera").get("EPHEMERA_VAULT_AUTH_APPROLE_SECRETID"))
        .isEqualTo(env("vault-setup").get("EPHEMERA_APPROLE_SECRET_ID"));
    assertThat(service("ephemera").get("depends_on").toString())
        .contains("vault-setup", "temporal");
  }

  /** Every EPHEMERA_* variable of the stack binds to a real property, as HelmChartTest checks. */
  @Test
  void ephemerasEnvironmentNamesRealProperties() {
    StandardEnvironment env = new StandardEnvironment();
    env.getPropertySources().remove(StandardEnvironment.SYSTEM_PROPERTIES_PROPERTY_SOURCE_NAME);
    env.getPropertySources()
        .replace(
            StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
            new SystemEnvironmentPropertySource(
                StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                new LinkedHashMap<>(env("ephemera"))));
    PropertySchema schema = PropertySchema.ofTheApplication();
    Map<String, String> unknown = new TreeMap<>();
    Map<ConfigurationPropertyName, Boolean> names = HelmChartTest.ephemeraNames(env);
    names.forEach(
        (name, fromEnvironment) -> {
          String problem = schema.problem(name, fromEnvironment);
          if (problem != null) {
            unknown.put(name.toString(), problem);
          }
        });
    assertThat(names).hasSizeGreaterThan(10);
    assertThat(unknown).as("variables that bind to no property").isEmpty();
  }

  /**
   * The stack's Vault sources are the Helm chart's defaults, and vault-setup stores a value at each
   * of them: the paths the policies grant (VaultSetupTest checks those against the chart).
   */
  @Test
  void theStacksVaultSourcesAreTheChartsAndAreFilled() {
    Map<String, String> ephemera = env("ephemera");
    RenderedChart chart = RenderedChart.defaults();
    Map<String, String> sources = new TreeMap<>();
    chart
        .applicationProperties()
        .forEach(
            (key, value) -> {
              Matcher m =
                  Pattern.compile("ephemera\\.vault\\.(build|deploy)\\.([a-z-]+)\\.path")
                      .matcher(key);
              if (m.matches()) {
                sources.put(
                    ("EPHEMERA_VAULT_" + m.group(1) + "_" + m.group(2).replace("-", "") + "_PATH")
                        .toUpperCase(java.util.Locale.ROOT),
                    value.toString());
              }
            });
    assertThat(sources).isNotEmpty();
    Map<String, String> inCompose = new TreeMap<>();
    ephemera.forEach(
        (k, v) -> {
          if (k.startsWith("EPHEMERA_VAULT_") && k.endsWith("_PATH")) {
            inCompose.put(k, v);
          }
        });
    assertThat(inCompose).isEqualTo(sources);
    String setup = service("vault-setup").get("command").toString();
    for (String path : sources.values()) {
      assertThat(setup).as("vault-setup stores " + path).contains("vault kv put " + path + " ");
    }
  }

  @Test
  void theTemporalUiDecodesThroughEphemerasCodecEndpoint() {
    Map<String, String> ui = env("temporal-ui");
    assertThat(ui.get("TEMPORAL_ADDRESS"))
        .isEqualTo(env("ephemera").get("EPHEMERA_TEMPORAL_TARGET"));
    URI codec = URI.create(ui.get("TEMPORAL_CODEC_ENDPOINT"));
    // The browser calls it: Ephemera's published port on localhost, path /codec.
    assertThat(codec.getHost()).isEqualTo("localhost");
    assertThat(codec.getPort()).isEqualTo(published("ephemera", 8080));
    assertThat(codec.getPath()).isEqualTo("/codec");
    String uiOrigin = "http://localhost:" + published("temporal-ui", 8080);
    assertThat(env("ephemera").get("EPHEMERA_CODEC_CORS_ORIGINS")).isEqualTo(uiOrigin);
    assertThat(env("ephemera")).containsEntry("EPHEMERA_CODEC_ENABLED", "true");
  }

  @Test
  @SuppressWarnings("unchecked")
  void vaultSetupRunsTheRealSetupScript() {
    List<String> volumes = (List<String>) service("vault-setup").get("volumes");
    String mount =
        volumes.stream().filter(v -> v.startsWith("../vault:")).findFirst().orElseThrow();
    String inContainer = mount.split(":")[1];
    assertThat(service("vault-setup").get("command").toString())
        .contains(inContainer + "/setup.sh");
    Path script = COMPOSE.resolve("../vault/setup.sh");
    assertThat(script).exists();
    assertThat(Files.isExecutable(script)).as("setup.sh is executable").isTrue();
  }
}
