package io.ephemera.worker.deploy;

import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleRef;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the rendered chart lets one ServiceAccount do, expanded to one {@link Grant} per (scope,
 * group, resource, verb): scope {@code null} for a ClusterRole bound by a ClusterRoleBinding (every
 * namespace and the cluster scope), a namespace for a RoleBinding.
 */
final class WorkerGrants {

  /** One permission, and where it came from. */
  record Grant(
      String scope, String group, String resource, String verb, List<String> names, String from) {

    /** Whether this grant authorises {@code access}, as the RBAC authorizer decides. */
    boolean allows(ApiAccess access) {
      if (!verb.equals(access.verb())
          || !group.equals(access.group())
          || !resource.equals(access.resource())) {
        return false;
      }
      if (scope != null && !scope.equals(access.namespace())) {
        return false;
      }
      // resourceNames never authorise create or collection requests.
      return names.isEmpty() || (access.name() != null && names.contains(access.name()));
    }

    String key() {
      return (scope == null ? "cluster" : scope)
          + ": "
          + (group.isEmpty() ? "" : group)
          + "/"
          + resource
          + " "
          + verb;
    }

    @Override
    public String toString() {
      return key() + " (" + from + ")";
    }
  }

  private WorkerGrants() {}

  static List<Grant> of(RenderedChart chart, String serviceAccount, String saNamespace) {
    List<Grant> grants = new ArrayList<>();
    for (ClusterRoleBinding b : chart.all(ClusterRoleBinding.class)) {
      if (names(b.getSubjects(), serviceAccount, saNamespace)) {
        rules(chart, b.getRoleRef(), null)
            .ifPresent(
                rules -> expand(null, rules, "ClusterRole " + b.getRoleRef().getName(), grants));
      }
    }
    for (RoleBinding b : chart.all(RoleBinding.class)) {
      if (names(b.getSubjects(), serviceAccount, saNamespace)) {
        String ns = b.getMetadata().getNamespace();
        rules(chart, b.getRoleRef(), ns)
            .ifPresent(
                rules ->
                    expand(
                        ns,
                        rules,
                        b.getRoleRef().getKind() + " " + b.getRoleRef().getName(),
                        grants));
      }
    }
    return List.copyOf(grants);
  }

  private static boolean names(List<Subject> subjects, String sa, String ns) {
    return subjects != null
        && subjects.stream()
            .anyMatch(
                s ->
                    "ServiceAccount".equals(s.getKind())
                        && sa.equals(s.getName())
                        && ns.equals(s.getNamespace()));
  }

  private static Optional<List<PolicyRule>> rules(RenderedChart chart, RoleRef ref, String ns) {
    if ("ClusterRole".equals(ref.getKind())) {
      return chart.all(ClusterRole.class).stream()
          .filter(r -> r.getMetadata().getName().equals(ref.getName()))
          .findFirst()
          .map(ClusterRole::getRules);
    }
    return chart.all(Role.class).stream()
        .filter(r -> r.getMetadata().getName().equals(ref.getName()))
        .filter(r -> r.getMetadata().getNamespace().equals(ns))
        .findFirst()
        .map(Role::getRules);
  }

  private static void expand(String scope, List<PolicyRule> rules, String from, List<Grant> into) {
    for (PolicyRule rule : rules) {
      List<String> names = rule.getResourceNames() == null ? List.of() : rule.getResourceNames();
      for (String group : rule.getApiGroups()) {
        for (String resource : rule.getResources()) {
          for (String verb : rule.getVerbs()) {
            into.add(new Grant(scope, group, resource, verb, List.copyOf(names), from));
          }
        }
      }
    }
  }
}
