package io.ephemera.activity.build;

import io.ephemera.activity.credentials.SecretKeys;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Kaniko Job of a build: everything that knows Kaniko's flags, paths and environment. Flags and
 * the git context syntax are those the osscontainertools fork documents (and upstream did).
 */
final class KanikoJobSpec implements BuildJobTemplate {
  static final String CONTAINER = "kaniko";
  static final String DOCKER_CONFIG_VOLUME = "docker-config";

  /** Where Kaniko reads registry credentials: {@code $DOCKER_CONFIG/config.json}. */
  static final String DOCKER_CONFIG_DIR = "/kaniko/.docker";

  /** The review workflow's id carries the merge request's number; its format never changes. */
  private static final Pattern REVIEW_APP_ID = Pattern.compile("review-app/[0-9]+/mr-([0-9]+)");

  /** Credentials the pod reads from the Secret, each only when the credentials step wrote it. */
  private static final List<String> SECRET_ENV =
      List.of(
          SecretKeys.GIT_USERNAME,
          SecretKeys.GIT_PASSWORD,
          SecretKeys.AWS_ACCESS_KEY_ID,
          SecretKeys.AWS_SECRET_ACCESS_KEY,
          SecretKeys.AWS_SESSION_TOKEN);

  private final BuildProperties props;
  private final URI gitUrl;

  KanikoJobSpec(BuildProperties props) {
    this.props = props;
    this.gitUrl = props.context().gitUrl();
    if (gitUrl == null) {
      throw new IllegalArgumentException(
          BuildProperties.PREFIX
              + "context.git-url is not set and no GitLab URL was given: the build cannot clone");
    }
  }

  @Override
  public String containerName() {
    return CONTAINER;
  }

  @Override
  public Job job(BuildRequest r) {
    Map<String, String> labels = BuildLabels.labels(r);
    return new JobBuilder()
        .withNewMetadata()
        .withName(r.name())
        .withNamespace(r.namespace())
        .withLabels(labels)
        .withAnnotations(BuildLabels.annotations(r))
        .endMetadata()
        .withNewSpec()
        // One try: a failed build fails the same way again, and the workflow decides what next.
        .withBackoffLimit(0)
        .withActiveDeadlineSeconds(props.activeDeadlineSeconds())
        .withTtlSecondsAfterFinished(props.ttlSecondsAfterFinished())
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(labels)
        .withAnnotations(BuildLabels.annotations(r))
        .endMetadata()
        .withNewSpec()
        .withRestartPolicy("Never")
        // Kaniko talks to the registry and GitLab, never to the Kubernetes API.
        .withAutomountServiceAccountToken(false)
        .withEnableServiceLinks(false)
        .withNewSecurityContext()
        .withNewSeccompProfile()
        .withType("RuntimeDefault")
        .endSeccompProfile()
        .endSecurityContext()
        .addNewContainer()
        .withName(CONTAINER)
        .withImage(props.executorImage())
        .withArgs(args(r))
        .withEnv(env(r))
        .addNewVolumeMount()
        .withName(DOCKER_CONFIG_VOLUME)
        .withMountPath(DOCKER_CONFIG_DIR)
        .withReadOnly(true)
        .endVolumeMount()
        .withNewResources()
        .addToRequests("cpu", new Quantity(props.resources().requestsCpu()))
        .addToRequests("memory", new Quantity(props.resources().requestsMemory()))
        .addToLimits("cpu", new Quantity(props.resources().limitsCpu()))
        .addToLimits("memory", new Quantity(props.resources().limitsMemory()))
        .endResources()
        // Root, unavoidably: Kaniko unpacks the base image into its own root filesystem, chowning
        // every file to its owner, and runs RUN steps as the image's user, root by default; as
        // non-root it can only build a scratch image with no RUN. What can be taken away is: no
        // privilege escalation (it is root already), no privileged mode, no added capabilities.
        .withNewSecurityContext()
        .withRunAsUser(0L)
        .withRunAsNonRoot(false)
        .withPrivileged(false)
        .withAllowPrivilegeEscalation(false)
        .endSecurityContext()
        .endContainer()
        .addNewVolume()
        .withName(DOCKER_CONFIG_VOLUME)
        .withNewSecret()
        .withSecretName(r.credentialsSecret())
        // Optional: without a registry credential (an open registry, or ECR through the AWS keys)
        // the pod must still start.
        .withOptional(true)
        .addNewItem()
        .withKey(SecretKeys.DOCKER_CONFIG)
        .withPath("config.json")
        .endItem()
        .endSecret()
        .endVolume()
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  List<String> args(BuildRequest r) {
    List<String> args = new ArrayList<>();
    args.add("--context=" + context(r));
    if (props.context().subPath() != null) {
      args.add("--context-sub-path=" + props.context().subPath());
    }
    args.add("--dockerfile=" + props.context().dockerfile());
    args.add("--destination=" + r.destination());
    BuildProperties.Cache cache = props.cache();
    args.add("--cache=" + cache.enabled());
    if (cache.enabled()) {
      if (cache.repo() != null) {
        args.add("--cache-repo=" + cache.repo());
      }
      args.add("--cache-ttl=" + cache.ttl().toHours() + "h");
    }
    if (props.registry().insecure()) {
      args.add("--insecure");
    }
    args.addAll(props.extraArgs());
    return args;
  }

  /**
   * Kaniko's git context, {@code git://<repository>#<ref>#<commit>}: it clones {@code ref}, fetches
   * it, and checks the commit out. The scheme is replaced by {@code GIT_PULL_METHOD} (https unless
   * told http). Without a merge request number to put in the ref, only the commit is named, which
   * Kaniko fetches by hash.
   */
  String context(BuildRequest r) {
    String path = gitUrl.getRawPath() == null ? "" : gitUrl.getRawPath();
    if (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    String authority = gitUrl.getRawAuthority();
    int at = authority.lastIndexOf('@');
    if (at >= 0) {
      // Credentials come from GIT_USERNAME/GIT_PASSWORD, never from the URL (it is in the Job).
      authority = authority.substring(at + 1);
    }
    String repo = authority + path + "/" + r.projectPath() + ".git";
    String ref = ref(r);
    return "git://" + repo + (ref == null ? "" : "#" + ref) + "#" + r.sha();
  }

  private String ref(BuildRequest r) {
    String template = props.context().ref();
    if (!template.contains("{iid}")) {
      return template;
    }
    Matcher m = REVIEW_APP_ID.matcher(r.workflowId());
    return m.matches() ? template.replace("{iid}", m.group(1)) : null;
  }

  private List<EnvVar> env(BuildRequest r) {
    List<EnvVar> env = new ArrayList<>();
    if ("http".equals(gitUrl.getScheme())) {
      env.add(new EnvVar("GIT_PULL_METHOD", "http", null));
    }
    // References only: the pod spec never holds a credential's value.
    for (String key : SECRET_ENV) {
      env.add(
          new EnvVarBuilder()
              .withName(key)
              .withNewValueFrom()
              .withNewSecretKeyRef()
              .withName(r.credentialsSecret())
              .withKey(key)
              .withOptional(true)
              .endSecretKeyRef()
              .endValueFrom()
              .build());
    }
    return env;
  }
}
