package io.ephemera.worker.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import io.ephemera.activity.vault.VaultProperties;
import io.ephemera.worker.config.EphemeraEnvironmentPostProcessor;
import io.ephemera.worker.config.WorkerProperties;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import java.lang.reflect.Parameter;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/**
 * deploy/helm/ephemera, linted and rendered by Helm in-process, and its manifests checked as the
 * cluster and the application would read them.
 */
class HelmChartTest {

  /** Every optional part switched on, so the checks below see every template branch. */
  static final Map<String, Object> EVERYTHING_ON =
      Map.ofEntries(
          Map.entry("api.ingress.enabled", "true"),
          Map.entry("api.ingress.tls.secretName", "ephemera-tls"),
          Map.entry("temporal.tls.enabled", "true"),
          Map.entry("temporal.tls.clientCertSecret", "temporal-client-cert"),
          Map.entry("temporal.tls.serverName", "temporal.example.com"),
          Map.entry("temporal.apiKey.existingSecret", "temporal-api-key"),
          Map.entry("vault.address", "https://vault.example.com:8200"),
          Map.entry("vault.namespace", "admin/ephemera"),
          Map.entry("vault.auth.method", "approle"),
          Map.entry("vault.auth.existingSecret", "ephemera-vault-approle"),
          Map.entry("vault.tls.caCertSecret", "vault-ca"),
          Map.entry("vault.sources.build.build-cache.path", "aws/creds/ephemera-build-cache"),
          Map.entry("vault.sources.build.build-cache.ttl", "15m"),
          Map.entry("vault.sources.build.source-read.path", "secret/ephemera/git/source-read"),
          Map.entry(
              "vault.sources.projects.\\[group/app\\].deploy.registry-pull.path",
              "secret/ephemera/registry/group-app/pull"),
          Map.entry("codec.keyId", "v2"),
          Map.entry("codec.keyIds[0]", "v1"),
          Map.entry("codec.keyIds[1]", "v2"),
          Map.entry("codec.corsOrigins[0]", "https://temporal.example.com"),
          Map.entry("review.tls.clusterIssuer", "letsencrypt"),
          Map.entry("runners.routing.source", "dynamodb"),
          Map.entry("runners.routing.dynamodb.region", "eu-west-1"),
          Map.entry("runners.routing.defaultRoute.name", "default"),
          Map.entry("runners.routing.defaultRoute.type", "KUBERNETES"),
          Map.entry("runners.routing.rules[0].job-name", "build-*"),
          Map.entry("runners.routing.rules[0].route.name", "big"),
          Map.entry("runners.routing.rules[0].route.type", "EC2"),
          Map.entry("runners.routing.rules[0].route.instance-type", "m7i.large"),
          Map.entry("config.ephemera.reconciler.interval", "1m"),
          Map.entry("api.autoscaling.enabled", "false"),
          Map.entry("worker.autoscaling.enabled", "false"),
          Map.entry("worker.nodeSelector.pool", "ephemera"),
          Map.entry("worker.tolerations[0].key", "dedicated"),
          Map.entry("worker.tolerations[0].operator", "Exists"));

  static Stream<RenderedChart> variants() {
    return Stream.of(RenderedChart.defaults(), RenderedChart.render(EVERYTHING_ON));
  }

  @Test
  void theChartPassesStrictLint() {
    LintResult lint = new Helm(RenderedChart.CHART).lint().strict().call();

    assertThat(lint.isFailed()).as(String.join("\n", lint.getMessages())).isFalse();
    assertThat(lint.getMessages()).noneMatch(m -> m.contains("[ERROR]") || m.contains("[WARNING]"));
  }

  @Test
  void defaultValuesRenderBothRolesFromTheSameImage() {
    RenderedChart chart = RenderedChart.defaults();
    Deployment api = chart.deployment("api");
    Deployment worker = chart.deployment("worker");

    assertThat(env(api, "EPHEMERA_ROLES").getValue()).isEqualTo("api");
    assertThat(env(worker, "EPHEMERA_ROLES").getValue()).isEqualTo("worker");
    assertThat(container(api).getImage())
        .isEqualTo(container(worker).getImage())
        .isEqualTo(jibImage() + ":" + chartAppVersion());
    assertThat(chart.one(Service.class, "ephemera-api").getSpec().getSelector())
        .isEqualTo(api.getSpec().getSelector().getMatchLabels());
    for (String component : List.of("api", "worker")) {
      assertThat(chart.one(HorizontalPodAutoscaler.class, "ephemera-" + component)).isNotNull();
      assertThat(chart.one(PodDisruptionBudget.class, "ephemera-" + component)).isNotNull();
    }
    assertThat(chart.all(Ingress.class)).as("the api Ingress is optional").isEmpty();
    assertThat(chart.property("ephemera.kubernetes.sandbox")).isEqualTo(false);
    assertThat(chart.property("ephemera.temporal.target"))
        .isEqualTo("temporal-frontend.temporal.svc.cluster.local:7233");
    assertThat(chart.property("logging.structured.format.console")).isEqualTo("ecs");
  }

  @ParameterizedTest
  @MethodSource("variants")
  void everyContainerHasLimitsAndARestrictedSecurityContext(RenderedChart chart) {
    List<Deployment> deployments = chart.all(Deployment.class);
    assertThat(deployments).hasSize(2);
    for (Deployment d : deployments) {
      PodSpec pod = d.getSpec().getTemplate().getSpec();
      PodSecurityContext podContext = pod.getSecurityContext();
      List<Container> containers = new ArrayList<>(pod.getContainers());
      if (pod.getInitContainers() != null) {
        containers.addAll(pod.getInitContainers());
      }
      for (Container c : containers) {
        String where = d.getMetadata().getName() + "/" + c.getName();
        assertThat(c.getResources().getLimits()).as(where).containsKeys("cpu", "memory");
        assertThat(c.getResources().getRequests()).as(where).containsKeys("cpu", "memory");
        SecurityContext sc = c.getSecurityContext();
        assertThat(sc).as(where).isNotNull();
        assertThat(
                sc.getRunAsNonRoot() != null ? sc.getRunAsNonRoot() : podContext.getRunAsNonRoot())
            .as(where + " runAsNonRoot")
            .isTrue();
        assertThat(sc.getReadOnlyRootFilesystem()).as(where + " readOnlyRootFilesystem").isTrue();
        assertThat(sc.getAllowPrivilegeEscalation())
            .as(where + " allowPrivilegeEscalation")
            .isFalse();
        assertThat(sc.getPrivileged()).as(where + " privileged").isNotEqualTo(Boolean.TRUE);
        assertThat(sc.getCapabilities().getDrop())
            .as(where + " capabilities")
            .containsExactly("ALL");
        assertThat(sc.getCapabilities().getAdd()).as(where).isNullOrEmpty();
        String seccomp =
            sc.getSeccompProfile() != null
                ? sc.getSeccompProfile().getType()
                : podContext.getSeccompProfile().getType();
        assertThat(seccomp).as(where + " seccomp").isEqualTo("RuntimeDefault");
        // A read-only root needs a writable /tmp, and it must be a scratch volume.
        String tmpVolume =
            c.getVolumeMounts().stream()
                .filter(m -> "/tmp".equals(m.getMountPath()))
                .findFirst()
                .orElseThrow(() -> new AssertionError(where + " mounts no /tmp"))
                .getName();
        assertThat(pod.getVolumes())
            .filteredOn(v -> v.getName().equals(tmpVolume))
            .singleElement()
            .satisfies(v -> assertThat(v.getEmptyDir()).as(where + " /tmp").isNotNull());
      }
      assertThat(podContext.getRunAsNonRoot()).isTrue();
      assertThat(podContext.getRunAsUser()).isPositive();
      assertThat(podContext.getRunAsUser()).as("the image's user").isEqualTo(jibUid());
    }
  }

  /** Secrets reach the process by reference only: no token or key is ever a literal value. */
  @ParameterizedTest
  @MethodSource("variants")
  void secretsAreReferencedNeverInlined(RenderedChart chart) {
    Pattern secretish = Pattern.compile(".*(TOKEN|KEY|PASSWORD|SECRET).*");
    for (Deployment d : chart.all(Deployment.class)) {
      for (EnvVar e : container(d).getEnv()) {
        if (secretish.matcher(e.getName()).matches()) {
          assertThat(e.getValue()).as(e.getName() + " must come from a Secret").isNull();
          assertThat(e.getValueFrom().getSecretKeyRef().getName()).isNotBlank();
        }
      }
    }
    assertThat(chart.yaml).doesNotContainIgnoringCase("kind: Secret");
  }

  /**
   * The rendered configuration is enough to start each role outside the {@code local} profile:
   * EphemeraEnvironmentPostProcessor, which refuses a production process with a missing endpoint or
   * token, accepts the ConfigMap's application.yaml plus the Deployment's environment (each
   * secretKeyRef standing for the value Kubernetes would inject).
   */
  @ParameterizedTest
  @MethodSource("variants")
  void theRenderedConfigurationStartsEachRoleOutsideTheLocalProfile(RenderedChart chart) {
    for (String role : List.of("api", "worker")) {
      StandardEnvironment env = environmentOf(chart, chart.deployment(role));
      assertThatCode(() -> new EphemeraEnvironmentPostProcessor().postProcessEnvironment(env, null))
          .as(role)
          .doesNotThrowAnyException();
      assertThat(env.getActiveProfiles())
          .doesNotContain(EphemeraEnvironmentPostProcessor.LOCAL_PROFILE);
      assertThat(env.getProperty("ephemera.roles")).isEqualTo(role);
      assertThat(env.getProperty("spring.temporal.connection.target"))
          .isEqualTo(chart.property("ephemera.temporal.target"));
      assertThat(env.getProperty("ephemera.gitlab.token")).startsWith("secret:");
    }
    // Without the api's own environment the same configuration must not start an api: the check
    // above can fail.
    StandardEnvironment workerEnvAsApi = environmentOf(chart, chart.deployment("worker"));
    workerEnvAsApi
        .getPropertySources()
        .addFirst(new MapPropertySource("role", Map.of("ephemera.roles", "api")));
    assertThatCode(
            () ->
                new EphemeraEnvironmentPostProcessor().postProcessEnvironment(workerEnvAsApi, null))
        .isInstanceOf(EphemeraEnvironmentPostProcessor.MissingConfigurationException.class);
  }

  /**
   * Every {@code ephemera.*} setting the chart gives either role, in the ConfigMap or as an
   * environment variable, binds to a property of the application's {@code @ConfigurationProperties}
   * records (derived by reflection, see {@link PropertySchema}): the chart never guesses a name.
   */
  @ParameterizedTest
  @MethodSource("variants")
  void everyEphemeraSettingTheChartRendersIsARealProperty(RenderedChart chart) {
    PropertySchema schema = PropertySchema.ofTheApplication();
    Map<String, String> unknown = new java.util.TreeMap<>();
    int checked = 0;
    for (String role : List.of("api", "worker")) {
      for (Map.Entry<ConfigurationPropertyName, Boolean> e :
          ephemeraNames(environmentOf(chart, chart.deployment(role))).entrySet()) {
        checked++;
        String problem = schema.problem(e.getKey(), e.getValue());
        if (problem != null) {
          unknown.put(role + ": " + e.getKey(), problem);
        }
      }
    }
    assertThat(checked).as("settings checked").isGreaterThan(20);
    assertThat(unknown).as("settings that bind to no property of the application").isEmpty();
  }

  /**
   * The values file of the top-level README's Operations section uses only the chart's values (Helm
   * ignores a misspelt one silently), and what it renders starts both roles and names only real
   * properties.
   */
  @Test
  void theReadmesValuesFileIsTheChartsValues() throws java.io.IOException {
    String readme = Files.readString(Path.of("..", "README.md"));
    int operations = readme.indexOf("## Operations");
    assertThat(operations).as("README has an Operations section").isPositive();
    Matcher block =
        Pattern.compile("\\*\\*Values\\.\\*\\*.*?```yaml\\n(.*?)```", Pattern.DOTALL)
            .matcher(readme.substring(operations));
    assertThat(block.find()).as("the Values step's yaml block").isTrue();
    String yaml = block.group(1).replaceAll("(?m)^   ", "");
    Map<String, Object> documented = new org.yaml.snakeyaml.Yaml().load(yaml);
    Map<String, Object> chartValues =
        new org.yaml.snakeyaml.Yaml()
            .load(Files.readString(RenderedChart.CHART.resolve("values.yaml")));
    List<String> unknown = new ArrayList<>();
    unknownValues("", documented, chartValues, unknown);
    assertThat(unknown).as("README values the chart does not have").isEmpty();

    Path file = Files.createTempFile("values-prod", ".yaml");
    try {
      Files.writeString(file, yaml);
      RenderedChart chart = RenderedChart.render(file, Map.of());
      assertThat(chart.property("ephemera.vault.auth.kubernetes.role"))
          .isEqualTo("ephemera-worker");
      assertThat(chart.property("ephemera.review.registry")).isEqualTo("registry.example.com");
      everyEphemeraSettingTheChartRendersIsARealProperty(chart);
      theRenderedConfigurationStartsEachRoleOutsideTheLocalProfile(chart);
    } finally {
      Files.delete(file);
    }
  }

  /** Keys of {@code given} that {@code values} lacks; an empty map in values takes anything. */
  @SuppressWarnings("unchecked")
  private static void unknownValues(
      String path, Map<String, Object> given, Map<String, Object> values, List<String> into) {
    if (values.isEmpty()) {
      return;
    }
    given.forEach(
        (k, v) -> {
          String where = path.isEmpty() ? k : path + "." + k;
          if (!values.containsKey(k)) {
            into.add(where);
          } else if (v instanceof Map<?, ?> nested && values.get(k) instanceof Map<?, ?> known) {
            unknownValues(where, (Map<String, Object>) nested, (Map<String, Object>) known, into);
          } else if (v instanceof Map<?, ?> && !(values.get(k) instanceof Map<?, ?>)) {
            into.add(where + " (not a map in values.yaml)");
          }
        });
  }

  /** With every option on, the Vault settings bind, per-project sources included. */
  @Test
  void everyVaultOptionBindsToVaultProperties() {
    VaultProperties vault = VaultExercise.bind(RenderedChart.render(EVERYTHING_ON));
    assertThat(vault.address()).isEqualTo("https://vault.example.com:8200");
    assertThat(vault.namespace()).isEqualTo("admin/ephemera");
    assertThat(vault.auth().method()).isEqualTo(VaultProperties.AuthMethod.APPROLE);
    assertThat(vault.auth().approle().roleName()).isEqualTo("ephemera-worker");
    assertThat(vault.tls().caCert()).isEqualTo("/etc/ephemera/vault-ca/ca.crt");
    assertThat(vault.build().buildCache().ttl()).isEqualTo(Duration.ofMinutes(15));
    assertThat(vault.projects()).containsOnlyKeys("group/app");
    assertThat(
            vault.sources(
                io.ephemera.activity.credentials.CredentialPurpose.DEPLOY, 1, "group/app"))
        .extracting(VaultProperties.SourceSpec::path)
        .containsExactly("secret/ephemera/registry/group-app/pull");
    assertThat(vault.leaseIndex().path()).isEqualTo("ephemera/leases");
  }

  /** The check above can fail, and knows the records it must. */
  @Test
  void thePropertySchemaRefusesGuessedNames() {
    PropertySchema schema = PropertySchema.ofTheApplication();
    assertThat(schema.roots())
        .containsKeys(
            "ephemera.vault",
            "ephemera.codec",
            "ephemera.build",
            "ephemera.reconciler",
            "ephemera.runners.kubernetes",
            "ephemera.worker");
    assertThat(PropertySchema.directReadsSpelledInTheirSource()).doesNotContainValue(false);
    for (String real :
        List.of(
            "ephemera.vault.auth.kubernetes.role",
            "ephemera.vault.auth.approle.role-id",
            "ephemera.vault.build.registry-push.path",
            "ephemera.vault.projects[group/app].deploy.registry-pull.ttl",
            "ephemera.vault.lease-index.mount",
            "ephemera.codec.keys.v1",
            "ephemera.codec.cors-origins",
            "ephemera.codec.cors-origins[0]",
            "ephemera.build.resources.limits-cpu",
            "ephemera.runners.routing.rules[0].route.type",
            "ephemera.activities.overrides[KubernetesAwaitRollout].start-to-close",
            "ephemera.reconciler.interval",
            "ephemera.temporal.target")) {
      assertThat(schema.problem(ConfigurationPropertyName.of(real))).as(real).isNull();
    }
    for (String guessed :
        List.of(
            "ephemera.vault.auth.role",
            "ephemera.vault.auth.mount",
            "ephemera.vault.auth.role-id",
            "ephemera.codec.keys",
            "ephemera.vault.build.registry-push",
            "ephemera.vault.lease-index.path.extra",
            "ephemera.reconciler.grace-period",
            "ephemera.runners.routing.rules.first",
            "ephemera.temporal.namespace")) {
      assertThat(schema.problem(ConfigurationPropertyName.of(guessed))).as(guessed).isNotNull();
    }
    // Environment variables are read as Spring reads them.
    StandardEnvironment env = new StandardEnvironment();
    env.getPropertySources()
        .replace(
            StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
            new SystemEnvironmentPropertySource(
                StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                Map.of(
                    "EPHEMERA_VAULT_AUTH_APPROLE_ROLEID", "x",
                    "EPHEMERA_CODEC_KEYS_V1", "x",
                    "EPHEMERA_GITLAB_WEBHOOK_TOKEN", "x",
                    "EPHEMERA_VAULT_AUTH_ROLE_ID", "x",
                    "EPHEMERA_CODEC_KEYS", "x")));
    env.getPropertySources().remove(StandardEnvironment.SYSTEM_PROPERTIES_PROPERTY_SOURCE_NAME);
    Map<String, Boolean> binds = new java.util.TreeMap<>();
    ephemeraNames(env)
        .forEach(
            (name, fromEnv) -> binds.put(name.toString(), schema.problem(name, fromEnv) == null));
    assertThat(binds)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "ephemera.vault.auth.approle.roleid", true,
                "ephemera.codec.keys.v1", true,
                "ephemera.gitlab.webhook.token", true,
                "ephemera.vault.auth.role.id", false,
                "ephemera.codec.keys", false));
  }

  /**
   * Kubernetes waits terminationGracePeriodSeconds before SIGKILL; the worker needs
   * ephemera.worker.shutdown-grace of it for in-flight activities, and some more for the rest of
   * the shutdown. The grace is read from the ConfigMap, or WorkerProperties' default when unset.
   */
  @Test
  void theWorkerOutlivesItsShutdownGrace() {
    for (RenderedChart chart :
        List.of(
            RenderedChart.defaults(),
            RenderedChart.render(Map.of("worker.shutdownGraceSeconds", "300")))) {
      Duration grace = shutdownGrace(chart);
      long termination =
          chart
              .deployment("worker")
              .getSpec()
              .getTemplate()
              .getSpec()
              .getTerminationGracePeriodSeconds();
      assertThat(Duration.ofSeconds(termination))
          .isGreaterThanOrEqualTo(grace.plusSeconds(10))
          .isLessThanOrEqualTo(grace.plusMinutes(2));
      assertThat(grace).isGreaterThanOrEqualTo(workerPropertiesDefaultGrace());
    }
  }

  /** The api reaches no Kubernetes API: no token mounted, no binding names its ServiceAccount. */
  @ParameterizedTest
  @MethodSource("variants")
  void theApiHasNoKubernetesPermissions(RenderedChart chart) {
    PodSpec api = chart.deployment("api").getSpec().getTemplate().getSpec();
    assertThat(api.getAutomountServiceAccountToken()).isFalse();
    String sa = api.getServiceAccountName();
    assertThat(chart.one(ServiceAccount.class, sa).getAutomountServiceAccountToken()).isFalse();
    List<Subject> subjects = new ArrayList<>();
    chart.all(ClusterRoleBinding.class).forEach(b -> subjects.addAll(b.getSubjects()));
    chart.all(RoleBinding.class).forEach(b -> subjects.addAll(b.getSubjects()));
    assertThat(subjects).isNotEmpty().noneMatch(s -> sa.equals(s.getName()));
  }

  @ParameterizedTest
  @MethodSource("variants")
  void noRbacRuleUsesAWildcardOrAnEscalationVerb(RenderedChart chart) {
    Map<String, List<PolicyRule>> rules = new LinkedHashMap<>();
    chart.all(ClusterRole.class).forEach(r -> rules.put(name(r), r.getRules()));
    chart.all(Role.class).forEach(r -> rules.put(name(r), r.getRules()));
    assertThat(rules).isNotEmpty();
    rules.forEach(
        (role, list) -> {
          assertThat(list).as(role).isNotEmpty();
          for (PolicyRule rule : list) {
            assertThat(rule.getVerbs()).as(role).isNotEmpty().doesNotContain("*");
            assertThat(rule.getResources()).as(role).isNotEmpty().noneMatch(r -> r.contains("*"));
            assertThat(rule.getApiGroups()).as(role).isNotEmpty().doesNotContain("*");
            assertThat(rule.getNonResourceURLs()).as(role).isNullOrEmpty();
            assertThat(rule.getVerbs())
                .as(role + ": verbs that hand out more than they hold")
                .doesNotContain("escalate", "bind", "impersonate");
            assertThat(rule.getApiGroups())
                .as(role + ": the worker must never write RBAC")
                .doesNotContain("rbac.authorization.k8s.io");
            assertThat(rule.getResources()).as(role).doesNotContain("pods/exec", "pods/attach");
          }
        });
  }

  // ---- helpers ----

  /** What Spring would see in the container: the ConfigMap's file, then the environment. */
  static StandardEnvironment environmentOf(RenderedChart chart, Deployment deployment) {
    StandardEnvironment env = new StandardEnvironment();
    env.getPropertySources().remove(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME);
    env.getPropertySources().remove(StandardEnvironment.SYSTEM_PROPERTIES_PROPERTY_SOURCE_NAME);
    Map<String, Object> vars = new LinkedHashMap<>();
    for (EnvVar e : container(deployment).getEnv()) {
      vars.put(
          e.getName(),
          e.getValue() != null
              ? e.getValue()
              : "secret:"
                  + e.getValueFrom().getSecretKeyRef().getName()
                  + "/"
                  + e.getValueFrom().getSecretKeyRef().getKey());
    }
    env.getPropertySources()
        .addLast(
            new SystemEnvironmentPropertySource(
                StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, vars));
    env.getPropertySources()
        .addLast(new MapPropertySource("application.yaml", chart.applicationProperties()));
    ConfigurationPropertySources.attach(env);
    return env;
  }

  /**
   * Every {@code ephemera.*} name in {@code env}, as Spring's binder sees the names, and whether it
   * came from an environment variable.
   */
  static Map<ConfigurationPropertyName, Boolean> ephemeraNames(StandardEnvironment env) {
    Map<ConfigurationPropertyName, Boolean> names = new LinkedHashMap<>();
    ConfigurationPropertyName ephemera = ConfigurationPropertyName.of("ephemera");
    for (ConfigurationPropertySource source : ConfigurationPropertySources.get(env)) {
      boolean fromEnvironment =
          source.getUnderlyingSource() instanceof SystemEnvironmentPropertySource;
      if (source instanceof IterableConfigurationPropertySource iterable) {
        iterable.stream()
            .filter(ephemera::isAncestorOf)
            .forEach(n -> names.put(n, fromEnvironment));
      }
    }
    return names;
  }

  static Container container(Deployment d) {
    return d.getSpec().getTemplate().getSpec().getContainers().getFirst();
  }

  static EnvVar env(Deployment d, String name) {
    return container(d).getEnv().stream()
        .filter(e -> name.equals(e.getName()))
        .findFirst()
        .orElseThrow(() -> new AssertionError(d.getMetadata().getName() + " has no env " + name));
  }

  private static String name(HasMetadata o) {
    return o.getKind() + "/" + o.getMetadata().getName();
  }

  private static Duration shutdownGrace(RenderedChart chart) {
    Object configured = chart.property("ephemera.worker.shutdown-grace");
    return configured == null
        ? workerPropertiesDefaultGrace()
        : DurationStyle.detectAndParse(configured.toString());
  }

  /** The application's own default, from the @DefaultValue on WorkerProperties.shutdownGrace. */
  static Duration workerPropertiesDefaultGrace() {
    RecordComponent[] components = WorkerProperties.class.getRecordComponents();
    Class<?>[] types =
        Arrays.stream(components).map(RecordComponent::getType).toArray(Class[]::new);
    try {
      Parameter[] parameters = WorkerProperties.class.getDeclaredConstructor(types).getParameters();
      for (int i = 0; i < components.length; i++) {
        if (components[i].getName().equals("shutdownGrace")) {
          return DurationStyle.detectAndParse(
              parameters[i].getAnnotation(DefaultValue.class).value()[0]);
        }
      }
    } catch (NoSuchMethodException e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("WorkerProperties has no shutdownGrace");
  }

  private static String pom() {
    try {
      return Files.readString(Path.of("pom.xml"));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The image jib-maven-plugin builds (worker/pom.xml, {@code <to><image>}). */
  static String jibImage() {
    Matcher m = Pattern.compile("<to>\\s*<image>([^<]+)</image>").matcher(pom());
    assertThat(m.find()).as("jib <to><image> in worker/pom.xml").isTrue();
    return m.group(1).trim();
  }

  /** The uid of jib's {@code <user>uid:gid</user>}. */
  static long jibUid() {
    Matcher m = Pattern.compile("<user>(\\d+):(\\d+)</user>").matcher(pom());
    assertThat(m.find()).as("a numeric jib <user> in worker/pom.xml").isTrue();
    return Long.parseLong(m.group(1));
  }

  private static String chartAppVersion() {
    try {
      Matcher m =
          Pattern.compile("(?m)^appVersion:\\s*\"?([^\"\\s]+)\"?")
              .matcher(Files.readString(RenderedChart.CHART.resolve("Chart.yaml")));
      assertThat(m.find()).isTrue();
      return m.group(1);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
