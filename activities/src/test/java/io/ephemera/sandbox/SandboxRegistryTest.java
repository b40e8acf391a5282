package io.ephemera.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SandboxRegistryTest {
  final SandboxRegistry registry = SandboxRegistry.start(0);
  final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void tearDown() {
    registry.close();
  }

  @Test
  void answersOnlyCredentialsTheSandboxIssued() throws Exception {
    HttpResponse<String> anonymous = send("GET", "/v2/", null);
    assertThat(anonymous.statusCode()).isEqualTo(401);
    assertThat(anonymous.headers().firstValue("WWW-Authenticate"))
        .hasValue("Basic realm=\"ephemera-sandbox-registry\"");
    assertThat(send("GET", "/v2/", basic("robot", "hunter2")).statusCode()).isEqualTo(401);

    HttpResponse<String> ok = send("GET", "/v2/", basic("robot", "x-ephemera-sandbox-secret-1"));
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.headers().firstValue("Docker-Distribution-API-Version")).hasValue("registry/2.0");
  }

  @Test
  void knowsTheTagsThatWerePushed() throws Exception {
    String auth = basic("ephemera-sandbox-secret-robot", "pw");
    assertThat(send("HEAD", "/v2/group/app/manifests/abc123", auth).statusCode()).isEqualTo(404);
    HttpResponse<String> unknown = send("GET", "/v2/group/app/manifests/abc123", auth);
    assertThat(unknown.body()).contains("MANIFEST_UNKNOWN");

    registry.push(registry.host() + "/group/app:abc123");

    HttpResponse<String> head = send("HEAD", "/v2/group/app/manifests/abc123", auth);
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.headers().firstValue("Docker-Content-Digest"))
        .hasValueSatisfying(d -> assertThat(d).startsWith("sha256:"));
    HttpResponse<String> get = send("GET", "/v2/group/app/manifests/abc123", auth);
    assertThat(get.body()).contains("\"schemaVersion\":2");
    assertThat(send("HEAD", "/v2/group/app/manifests/other", auth).statusCode()).isEqualTo(404);
    assertThat(registry.has("group/app:abc123")).isTrue();
    assertThat(registry.inventory())
        .singleElement()
        .satisfies(
            i -> {
              assertThat(i.repository()).isEqualTo("group/app");
              assertThat(i.tag()).isEqualTo("abc123");
            });
  }

  HttpResponse<String> send(String method, String path, String authorization) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://" + registry.host() + path))
            .method(method, HttpRequest.BodyPublishers.noBody());
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static String basic(String user, String password) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }
}
