package io.ephemera.activity.kubernetes;

import io.ephemera.common.Labels;
import io.ephemera.common.Names;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LimitRange;
import io.fabric8.kubernetes.api.model.LimitRangeBuilder;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceQuota;
import io.fabric8.kubernetes.api.model.ResourceQuotaBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The objects of one review app, built from the specs and the configuration: the only place that
 * knows their shape. Every object carries the managed-by and workflow-id labels, which the reaper
 * relies on, and the workflow id verbatim as an annotation for people reading it.
 */
final class ReviewAppManifests {
  static final String QUOTA = "ephemera-quota";
  static final String LIMITS = "ephemera-limits";
  static final String DEFAULT_DENY = "default-deny";
  static final String ALLOW_FROM_INGRESS = "allow-from-ingress";

  /** Deployment, Service and Ingress share one name: a review namespace holds exactly one app. */
  static final String APP = "app";

  static final String APP_NAME_LABEL = "app.kubernetes.io/name";
  static final String CERT_MANAGER_ISSUER = "cert-manager.io/cluster-issuer";
  static final String NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";
  static final int SERVICE_PORT = 80;
  private static final String PORT_NAME = "http";

  private final KubernetesProperties props;

  ReviewAppManifests(KubernetesProperties props) {
    this.props = props;
  }

  Namespace namespace(NamespaceSpec spec) {
    Map<String, String> labels = ownerLabels(spec.workflowId());
    labels.put(Labels.KIND, Labels.KIND_REVIEW_APP);
    labels.put(Labels.PROJECT_ID, Long.toString(spec.projectId()));
    labels.put(Labels.MR_IID, Long.toString(spec.mrIid()));
    return new NamespaceBuilder()
        .withMetadata(
            new ObjectMetaBuilder()
                .withName(spec.namespace())
                .withLabels(labels)
                .withAnnotations(ownerAnnotations(spec.workflowId()))
                .build())
        .build();
  }

  ResourceQuota quota(NamespaceSpec spec) {
    KubernetesProperties.Quota q = props.quota();
    return new ResourceQuotaBuilder()
        .withMetadata(meta(QUOTA, spec.namespace(), spec.workflowId()))
        .withNewSpec()
        .addToHard("requests.cpu", new Quantity(q.requestsCpu()))
        .addToHard("requests.memory", new Quantity(q.requestsMemory()))
        .addToHard("limits.cpu", new Quantity(q.limitsCpu()))
        .addToHard("limits.memory", new Quantity(q.limitsMemory()))
        .addToHard("pods", new Quantity(q.pods()))
        .endSpec()
        .build();
  }

  LimitRange limits(NamespaceSpec spec) {
    KubernetesProperties.Limits l = props.limits();
    return new LimitRangeBuilder()
        .withMetadata(meta(LIMITS, spec.namespace(), spec.workflowId()))
        .withNewSpec()
        .addNewLimit()
        .withType("Container")
        .addToDefaultRequest("cpu", new Quantity(l.defaultRequestCpu()))
        .addToDefaultRequest("memory", new Quantity(l.defaultRequestMemory()))
        .addToDefault("cpu", new Quantity(l.defaultCpu()))
        .addToDefault("memory", new Quantity(l.defaultMemory()))
        .endLimit()
        .endSpec()
        .build();
  }

  /** Selects every pod and admits nothing: what the next policy does not allow is denied. */
  NetworkPolicy defaultDeny(NamespaceSpec spec) {
    return new NetworkPolicyBuilder()
        .withMetadata(meta(DEFAULT_DENY, spec.namespace(), spec.workflowId()))
        .withNewSpec()
        .withNewPodSelector()
        .endPodSelector()
        .addToPolicyTypes("Ingress")
        .endSpec()
        .build();
  }

  /**
   * Admits the ingress controller's pods. {@code kubernetes.io/metadata.name} is set by the API
   * server on every namespace (1.21+), so no one has to label the controller's namespace.
   */
  NetworkPolicy allowFromIngress(NamespaceSpec spec) {
    return new NetworkPolicyBuilder()
        .withMetadata(meta(ALLOW_FROM_INGRESS, spec.namespace(), spec.workflowId()))
        .withNewSpec()
        .withNewPodSelector()
        .endPodSelector()
        .addToPolicyTypes("Ingress")
        .addNewIngress()
        .addNewFrom()
        .withNewNamespaceSelector()
        .addToMatchLabels(NAMESPACE_NAME_LABEL, props.ingressNamespace())
        .endNamespaceSelector()
        .endFrom()
        .endIngress()
        .endSpec()
        .build();
  }

  Deployment deployment(WorkloadSpec spec, String shaLabel) {
    Map<String, String> labels = appLabels(spec.workflowId(), shaLabel);
    return new DeploymentBuilder()
        .withMetadata(
            new ObjectMetaBuilder()
                .withName(APP)
                .withNamespace(spec.namespace())
                .withLabels(labels)
                .withAnnotations(ownerAnnotations(spec.workflowId()))
                .build())
        .withNewSpec()
        .withReplicas(props.replicas())
        // A review app never rolls back to a revision older than the last one: two ReplicaSets
        // are enough, and the other eight of the default ten would only count against the quota's
        // object budget and clutter `kubectl get rs`.
        .withRevisionHistoryLimit(2)
        // The selector is immutable once created: it holds only the stable app label, never the
        // sha, so every later push can update the same Deployment.
        .withNewSelector()
        .addToMatchLabels(APP_NAME_LABEL, APP)
        .endSelector()
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(labels)
        .endMetadata()
        .withNewSpec()
        // A review app has no business with the Kubernetes API; without a token it cannot be used
        // to reach it either.
        .withAutomountServiceAccountToken(false)
        .withImagePullSecrets(
            spec.imagePullSecret() == null
                ? List.of()
                : List.of(new LocalObjectReference(spec.imagePullSecret())))
        .addNewContainer()
        .withName(APP)
        .withImage(spec.image())
        .addNewPort()
        .withName(PORT_NAME)
        .withContainerPort(props.containerPort())
        .withProtocol("TCP")
        .endPort()
        // Ready means "accepts connections": Ingress traffic only reaches a listening app, and
        // the rollout only counts as done once it is. Resources come from the LimitRange.
        .withNewReadinessProbe()
        .withNewTcpSocket()
        .withPort(new IntOrString(PORT_NAME))
        .endTcpSocket()
        .withPeriodSeconds(5)
        .endReadinessProbe()
        .endContainer()
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  Service service(WorkloadSpec spec) {
    return new ServiceBuilder()
        .withMetadata(meta(APP, spec.namespace(), spec.workflowId()))
        .withNewSpec()
        .withType("ClusterIP")
        .addToSelector(APP_NAME_LABEL, APP)
        .addNewPort()
        .withName(PORT_NAME)
        .withPort(SERVICE_PORT)
        // By name, so a changed container port needs no change here.
        .withTargetPort(new IntOrString(PORT_NAME))
        .withProtocol("TCP")
        .endPort()
        .endSpec()
        .build();
  }

  Ingress ingress(WorkloadSpec spec) {
    ObjectMeta meta = meta(APP, spec.namespace(), spec.workflowId());
    KubernetesProperties.Tls tls = props.tls();
    if (tls.enabled() && tls.clusterIssuer() != null) {
      meta.getAnnotations().put(CERT_MANAGER_ISSUER, tls.clusterIssuer());
    }
    IngressBuilder b =
        new IngressBuilder()
            .withMetadata(meta)
            .withNewSpec()
            .withIngressClassName(props.ingressClassName())
            .addNewRule()
            .withHost(spec.host())
            .withNewHttp()
            .addNewPath()
            .withPath("/")
            .withPathType("Prefix")
            .withNewBackend()
            .withNewService()
            .withName(APP)
            .withNewPort()
            .withNumber(SERVICE_PORT)
            .endPort()
            .endService()
            .endBackend()
            .endPath()
            .endHttp()
            .endRule()
            .endSpec();
    if (tls.enabled()) {
      b.editSpec()
          .addNewTl()
          .addToHosts(spec.host())
          .withSecretName(tls.secretName())
          .endTl()
          .endSpec();
    }
    return b.build();
  }

  private static ObjectMeta meta(String name, String namespace, String workflowId) {
    return new ObjectMetaBuilder()
        .withName(name)
        .withNamespace(namespace)
        .withLabels(ownerLabels(workflowId))
        .withAnnotations(ownerAnnotations(workflowId))
        .build();
  }

  private static Map<String, String> appLabels(String workflowId, String shaLabel) {
    Map<String, String> labels = ownerLabels(workflowId);
    labels.put(APP_NAME_LABEL, APP);
    labels.put(Labels.SHA, shaLabel);
    return labels;
  }

  static Map<String, String> ownerLabels(String workflowId) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE);
    labels.put(Labels.WORKFLOW_ID, Names.labelValue(workflowId));
    return labels;
  }

  private static Map<String, String> ownerAnnotations(String workflowId) {
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put(Labels.WORKFLOW_ID_ANNOTATION, workflowId);
    return annotations;
  }
}
