package io.ephemera.sandbox;

import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Paged lists, as a real API server answers them. Fabric8's CRUD mock ignores {@code limit} and
 * {@code continue} and answers every object at once, so a client that pages (the reconciler's
 * listings) would hold the whole collection in memory in the sandbox while it holds one page on a
 * cluster: the sandbox would hide exactly the cost paging exists to avoid. This cuts the CRUD
 * answer to the page asked for, in the server's order (namespace, then name), with an opaque {@code
 * continue} token and {@code remainingItemCount}.
 *
 * <p>The whole collection is still built by the mock for every page (it is the sandbox's own
 * memory, not the client's); only what crosses the wire is a page.
 */
final class SandboxPaging {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private SandboxPaging() {}

  /** The answer to {@code request}, cut to its page when it is a list asked for with a limit. */
  static MockResponse page(RecordedRequest request, MockResponse answer) {
    if (!"GET".equals(String.valueOf(request.getMethod())) || answer.getBody() == null) {
      return answer;
    }
    Integer limit = intParam(request.getPath(), "limit");
    if (limit == null || limit <= 0 || !answer.getStatus().contains(" 200")) {
      return answer;
    }
    String body = new String(answer.getBody().getBytes(), StandardCharsets.UTF_8);
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (RuntimeException e) {
      return answer;
    }
    if (!(root instanceof ObjectNode list) || !(root.get("items") instanceof ArrayNode items)) {
      return answer;
    }
    List<JsonNode> sorted = new ArrayList<>();
    items.forEach(sorted::add);
    sorted.sort(Comparator.comparing(SandboxPaging::key));
    String after = decode(param(request.getPath(), "continue"));
    int from = 0;
    if (after != null) {
      while (from < sorted.size() && key(sorted.get(from)).compareTo(after) <= 0) {
        from++;
      }
    }
    int to = Math.min(sorted.size(), from + limit);
    ArrayNode page = list.putArray("items");
    sorted.subList(from, to).forEach(page::add);
    ObjectNode metadata =
        list.get("metadata") instanceof ObjectNode m ? m : list.putObject("metadata");
    if (to < sorted.size()) {
      metadata.put("continue", encode(key(sorted.get(to - 1))));
      metadata.put("remainingItemCount", sorted.size() - to);
    } else {
      metadata.remove("continue");
      metadata.remove("remainingItemCount");
    }
    return answer.setBody(JSON.writeValueAsString(list));
  }

  private static String key(JsonNode item) {
    JsonNode metadata = item.path("metadata");
    return metadata.path("namespace").asString("") + "/" + metadata.path("name").asString("");
  }

  private static String encode(String key) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(key.getBytes(StandardCharsets.UTF_8));
  }

  private static String decode(String token) {
    if (token == null || token.isEmpty()) {
      return null;
    }
    try {
      return new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static Integer intParam(String path, String name) {
    String v = param(path, name);
    if (v == null) {
      return null;
    }
    try {
      return Integer.valueOf(v);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static String param(String path, String name) {
    String query = URI.create("http://sandbox" + path).getRawQuery();
    if (query == null) {
      return null;
    }
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      if (k.equals(name)) {
        return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      }
    }
    return null;
  }
}
