package io.ephemera.activity.reconciler;

import io.ephemera.activity.build.BuildRequest;
import io.ephemera.activity.credentials.CredentialPurpose;
import io.ephemera.activity.vault.VaultCredentialActivities;
import io.ephemera.common.Labels;
import io.ephemera.common.Names;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.api.model.ListMeta;
import io.fabric8.kubernetes.api.model.ListOptions;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretList;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobList;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Review-app namespaces, runner pods and image builds, listed by the label {@code
 * app.kubernetes.io/managed-by=ephemera} with Kubernetes' own paging ({@code limit} and {@code
 * continue}), so the client never holds more than a page. The owner is the {@code
 * ephemera.io/workflow-id} label; objects without it (the runners' shared namespace) are not
 * judged.
 */
public final class KubernetesSources {
  private KubernetesSources() {}

  /** Namespaces labelled as managed by Ephemera, cluster-wide. */
  public static ManagedSource namespaces(KubernetesClient client) {
    return new Source(
        io.ephemera.activity.reconciler.ResourceKinds.NAMESPACE,
        options ->
            client.namespaces().withLabel(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE).list(options),
        o -> o.getMetadata().getName());
  }

  /** Runner pods in the runners' namespace. */
  public static ManagedSource runnerPods(KubernetesClient client, String namespace) {
    return new Source(
        io.ephemera.activity.reconciler.ResourceKinds.RUNNER_POD,
        options ->
            client
                .pods()
                .inNamespace(namespace)
                .withLabel(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
                .withLabel(Labels.KIND, Labels.KIND_RUNNER)
                .list(options),
        o -> o.getMetadata().getNamespace() + "/" + o.getMetadata().getName());
  }

  /**
   * Image builds in the build namespace ({@code ephemera.build.namespace}): first the build Jobs
   * (labelled {@code ephemera.io/kind=build}), then the build credentials Secrets (labelled {@code
   * ephemera.io/credentials=build}) that have no Job of their name, such as those of a review app
   * stopped between issuing its build credentials and creating its Job. A build's Job and Secret
   * share the build's name, and a Job names its Secret in its pod's volumes; a Secret whose Job
   * exists is the Job's, counted and deleted with it. Each page holds one kind of object, and the
   * cursor says which ({@code jobs:<continue>} or {@code secrets:<continue>}); a Secret costs one
   * extra GET for its Job.
   */
  public static ManagedSource builds(KubernetesClient client, String namespace) {
    if (!Names.isDns1123Label(namespace)) {
      throw new IllegalArgumentException("build namespace '" + namespace + "' is not a DNS label");
    }
    return new Builds(client, namespace);
  }

  private static final class Builds implements ManagedSource {
    /** {@code BuildLabels.KIND_BUILD}, the builder's Job kind label value. */
    static final String KIND_BUILD = "build";

    /** The purpose label value of a build's credentials Secret. */
    static final String PURPOSE_BUILD = CredentialPurpose.BUILD.name().toLowerCase(Locale.ROOT);

    static final String JOBS = "jobs:";
    static final String SECRETS = "secrets:";

    private final KubernetesClient client;
    private final String namespace;

    Builds(KubernetesClient client, String namespace) {
      this.client = client;
      this.namespace = namespace;
    }

    @Override
    public String kind() {
      return io.ephemera.activity.reconciler.ResourceKinds.BUILD;
    }

    @Override
    public Page page(String cursor, int limit) {
      if (cursor == null || cursor.startsWith(JOBS)) {
        String from = cursor == null ? null : blankToNull(cursor.substring(JOBS.length()));
        JobList jobs =
            client
                .batch()
                .v1()
                .jobs()
                .inNamespace(namespace)
                .withLabel(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
                .withLabel(Labels.KIND, KIND_BUILD)
                .list(options(limit, from));
        List<Managed> items = new ArrayList<>(jobs.getItems().size());
        for (Job job : jobs.getItems()) {
          String name = job.getMetadata().getName();
          items.add(managed(job, namespace + "/job/" + name, name, secretOf(job)));
        }
        String next = continueOf(jobs.getMetadata());
        // After the last page of Jobs come the Secrets, from their first page.
        return new Page(items, next == null ? SECRETS : JOBS + next);
      }
      if (!cursor.startsWith(SECRETS)) {
        throw new IllegalArgumentException("not a cursor of the build listing: " + cursor);
      }
      String from = blankToNull(cursor.substring(SECRETS.length()));
      SecretList secrets =
          client
              .secrets()
              .inNamespace(namespace)
              .withLabel(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
              .withLabel(VaultCredentialActivities.PURPOSE_LABEL, PURPOSE_BUILD)
              .list(options(limit, from));
      List<Managed> items = new ArrayList<>();
      for (Secret secret : secrets.getItems()) {
        String name = secret.getMetadata().getName();
        if (client.batch().v1().jobs().inNamespace(namespace).withName(name).get() != null) {
          continue; // its Job's: listed, judged and deleted with it
        }
        items.add(managed(secret, namespace + "/secret/" + name, name, name));
      }
      String next = continueOf(secrets.getMetadata());
      return new Page(items, next == null ? null : SECRETS + next);
    }

    private Managed managed(HasMetadata o, String resource, String build, String secret) {
      String owner = owner(o);
      Instant createdAt = Ownership.instant(o.getMetadata().getCreationTimestamp());
      long project = Ownership.projectOf(owner);
      Map<String, String> labels = o.getMetadata().getLabels();
      String sha = labels == null ? null : labels.get(Labels.SHA);
      BuildRequest delete =
          owner == null
              ? null
              : new BuildRequest(owner, project, null, sha, namespace, build, null, secret);
      return new Managed(resource, owner, createdAt, project, null, delete);
    }

    /** The Secret the Job's pod mounts; by the builders' convention, else the Job's own name. */
    private static String secretOf(Job job) {
      if (job.getSpec() != null
          && job.getSpec().getTemplate() != null
          && job.getSpec().getTemplate().getSpec() != null
          && job.getSpec().getTemplate().getSpec().getVolumes() != null) {
        for (Volume v : job.getSpec().getTemplate().getSpec().getVolumes()) {
          if (v.getSecret() != null && v.getSecret().getSecretName() != null) {
            return v.getSecret().getSecretName();
          }
        }
      }
      return job.getMetadata().getName();
    }
  }

  private static ListOptions options(int limit, String from) {
    return new ListOptionsBuilder().withLimit((long) limit).withContinue(from).build();
  }

  private static String continueOf(ListMeta meta) {
    return meta == null ? null : blankToNull(meta.getContinue());
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }

  private static String owner(HasMetadata o) {
    Map<String, String> labels = o.getMetadata().getLabels();
    String label = labels == null ? null : labels.get(Labels.WORKFLOW_ID);
    return label == null || label.isBlank() ? null : Names.workflowIdFromLabel(label);
  }

  private record Source(
      String kind,
      Function<ListOptions, KubernetesResourceList<? extends HasMetadata>> list,
      Function<HasMetadata, String> name)
      implements ManagedSource {
    @Override
    public Page page(String cursor, int limit) {
      KubernetesResourceList<? extends HasMetadata> list = this.list.apply(options(limit, cursor));
      List<Managed> items = new ArrayList<>(list.getItems().size());
      for (HasMetadata o : list.getItems()) {
        String owner = owner(o);
        items.add(
            new Managed(
                name.apply(o),
                owner,
                Ownership.instant(o.getMetadata().getCreationTimestamp()),
                Ownership.projectOf(owner),
                null));
      }
      return new Page(items, continueOf(list.getMetadata()));
    }
  }
}
