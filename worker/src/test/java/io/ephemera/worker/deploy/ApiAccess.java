package io.ephemera.worker.deploy;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * One Kubernetes API request in RBAC's terms: the verb, API group, resource (with its subresource,
 * as in {@code pods/log}), the namespace ({@code null} for cluster-scoped resources) and the
 * object's name, if any. Parsed from the request line exactly as the API server's request-info
 * resolver does it for resource requests.
 */
record ApiAccess(String verb, String group, String resource, String namespace, String name) {

  /** Parses {@code METHOD /api/v1/...} or {@code METHOD /apis/group/version/...}. */
  static ApiAccess of(String method, String pathAndQuery) {
    String path = pathAndQuery;
    String query = "";
    int q = path.indexOf('?');
    if (q >= 0) {
      query = path.substring(q + 1);
      path = path.substring(0, q);
    }
    List<String> parts =
        Arrays.stream(path.split("/"))
            .filter(s -> !s.isEmpty())
            .map(s -> URLDecoder.decode(s, StandardCharsets.UTF_8))
            .toList();
    String group;
    List<String> rest;
    if (parts.size() >= 2 && parts.get(0).equals("api")) {
      group = "";
      rest = parts.subList(2, parts.size());
    } else if (parts.size() >= 3 && parts.get(0).equals("apis")) {
      group = parts.get(1);
      rest = parts.subList(3, parts.size());
    } else {
      throw new IllegalArgumentException("not a resource request: " + method + " " + pathAndQuery);
    }
    String namespace = null;
    // /namespaces/{ns}/{resource}... is namespaced; /namespaces and /namespaces/{name} are the
    // namespace objects themselves.
    if (rest.size() >= 3 && rest.get(0).equals("namespaces")) {
      namespace = rest.get(1);
      rest = rest.subList(2, rest.size());
    }
    if (rest.isEmpty()) {
      throw new IllegalArgumentException("no resource in " + method + " " + pathAndQuery);
    }
    String resource = rest.get(0);
    String name = rest.size() >= 2 ? rest.get(1) : null;
    if (rest.size() >= 3) {
      resource = resource + "/" + rest.get(2);
    }
    boolean watch = Arrays.asList(query.split("&")).contains("watch=true");
    String verb =
        switch (method) {
          case "GET" -> watch ? "watch" : name == null ? "list" : "get";
          case "POST" -> "create";
          case "PUT" -> "update";
          case "PATCH" -> "patch";
          case "DELETE" -> name == null ? "deletecollection" : "delete";
          default -> throw new IllegalArgumentException("unexpected method " + method);
        };
    return new ApiAccess(verb, group, resource, namespace, name);
  }

  @Override
  public String toString() {
    return verb
        + " "
        + (group.isEmpty() ? "" : group + "/")
        + resource
        + (namespace == null ? " (cluster scope)" : " in " + namespace);
  }
}
