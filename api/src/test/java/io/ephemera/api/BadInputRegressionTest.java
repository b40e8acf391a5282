package io.ephemera.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.ephemera.apitest.ApiTestApplication;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What the bad-input suite (the worker's {@code WebhookFuzzTest} and {@code RestApiFuzzTest})
 * found, one focused case each, over a raw socket so that nothing on the client side tidies the
 * request. Each answer must be a 4xx {@code application/problem+json}; before the fixes each was a
 * 500, a bare status, Tomcat's HTML page, a request taken as valid, or a client left trickling
 * forever.
 */
@SpringBootTest(
    classes = ApiTestApplication.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"ephemera.api.body-timeout=1s", "server.tomcat.connection-timeout=3s"})
class BadInputRegressionTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String WEBHOOK = "test-webhook-token";
  private static final String BEARER = "Bearer test-api-token";

  @LocalServerPort int port;

  record Answer(int status, String head, String body) {
    JsonNode problem() {
      assertThat(head.toLowerCase()).contains("content-type: application/problem+json");
      JsonNode p = JSON.readTree(body);
      assertThat(p.get("status").asInt()).isEqualTo(status);
      assertThat(p.get("detail").asString()).isNotBlank();
      return p;
    }
  }

  @Test
  void aMultipartDeliveryWithoutABoundaryIsA400NotA500() throws Exception {
    Answer a =
        send(
            "POST /webhooks/gitlab",
            "Content-Type: multipart/form-data\r\nX-Gitlab-Token: " + WEBHOOK,
            "{\"object_kind\":\"push\"}");
    assertThat(a.status()).isEqualTo(400);
    assertThat(a.problem().get("type").asString()).endsWith("/malformed-payload");
  }

  @Test
  void anUnparseableAcceptHeaderStillGetsAProblemBody() throws Exception {
    Answer a =
        send(
            "POST /webhooks/gitlab",
            "Content-Type: application/json\r\nAccept: ///\r\nX-Gitlab-Token: " + WEBHOOK,
            "{\"object_kind\":\"push\"}");
    assertThat(a.status()).isEqualTo(406);
    assertThat(a.problem().get("type").asString()).endsWith("/not-acceptable");
  }

  @Test
  void aHeaderTomcatRefusesIsAProblemNotAnHtmlPage() throws Exception {
    Answer a =
        send(
            "POST /webhooks/gitlab",
            "Content-Type: application/json\r\nX-Gitlab-Token: a\u0001b",
            "{\"object_kind\":\"push\"}");
    assertThat(a.status()).isEqualTo(400);
    assertThat(a.problem().get("type").asString()).endsWith("/bad-request");
    assertThat(a.body()).doesNotContain("<html");
  }

  @Test
  void headersOverTomcatsLimitAreAProblemToo() throws Exception {
    Answer a =
        send(
            "GET /api/v1/review-apps",
            "Authorization: " + BEARER + "\r\nX-Padding: " + "p".repeat(10_000),
            null);
    assertThat(a.status()).isEqualTo(400);
    a.problem();
  }

  @Test
  void aWildcardContentTypeOnStopIsA415NotA500() throws Exception {
    Answer a =
        send(
            "POST /api/v1/review-apps/1/1/stop",
            "Authorization: " + BEARER + "\r\nContent-Type: */*",
            "");
    assertThat(a.status()).isEqualTo(415);
    assertThat(a.problem().get("type").asString()).endsWith("/unsupported-media-type");
  }

  @Test
  void pathIdsWithWhitespaceOrOtherDigitsAreRefusedNotTrimmed() throws Exception {
    for (String id : new String[] {"%201", "1%20", "1%0A", "%EF%BC%91"}) {
      Answer a =
          send(
              "POST /api/v1/review-apps/1/" + id + "/stop",
              "Authorization: " + BEARER + "\r\nContent-Type: application/json",
              "{\"reason\":\"x\"}");
      assertThat(a.status()).as(id).isEqualTo(400);
      assertThat(a.problem().get("field").asString()).as(id).isEqualTo("iid");
    }
  }

  @Test
  void anOversizedRestBodyIs413WithTheLimit() throws Exception {
    String body = "{\"reason\":\"x\",\"pad\":\"" + "p".repeat(70 * 1024) + "\"}";
    Answer a =
        send(
            "POST /api/v1/runners/1/1/stop",
            "Authorization: " + BEARER + "\r\nContent-Type: application/json",
            body);
    assertThat(a.status()).isEqualTo(413);
    JsonNode problem = a.problem();
    assertThat(problem.get("type").asString()).endsWith("/payload-too-large");
    assertThat(problem.get("limit").asLong()).isEqualTo(64 * 1024);
  }

  @Test
  void aTrickledDeliveryIsCutOffAtTheBodyTimeout() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      OutputStream out = socket.getOutputStream();
      out.write(
          ("POST /webhooks/gitlab HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                  + "Content-Type: application/json\r\nX-Gitlab-Token: "
                  + WEBHOOK
                  + "\r\nContent-Length: 5000\r\n\r\n")
              .getBytes(StandardCharsets.UTF_8));
      InputStream in = socket.getInputStream();
      socket.setSoTimeout(250);
      long deadline = System.nanoTime() + 10_000_000_000L;
      // One byte every 250 ms: each pause is far below the connection timeout, the whole is not.
      while (System.nanoTime() < deadline) {
        out.write('{');
        out.flush();
        try {
          int first = in.read();
          assertThat(first).as("answered, not hung up").isNotNegative();
          Answer a = read(socket, first);
          assertThat(a.status()).isEqualTo(400);
          a.problem();
          return;
        } catch (SocketTimeoutException e) {
          // no answer yet: trickle on
        }
      }
      throw new AssertionError("the trickling client was neither answered nor cut off");
    }
  }

  private Answer send(String requestLine, String headers, String body) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
      String head =
          requestLine
              + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
              + headers
              + "\r\nContent-Length: "
              + bytes.length
              + "\r\n\r\n";
      socket.getOutputStream().write(head.getBytes(StandardCharsets.UTF_8));
      socket.getOutputStream().write(bytes);
      socket.setSoTimeout(10_000);
      return read(socket, -1);
    }
  }

  /** Reads to EOF (every request says Connection: close) and splits head and body. */
  private static Answer read(Socket socket, int first) throws IOException {
    socket.setSoTimeout(10_000);
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    if (first >= 0) {
      raw.write(first);
    }
    try {
      socket.getInputStream().transferTo(raw);
    } catch (IOException e) {
      // a reset after the answer: keep what arrived
    }
    String text = raw.toString(StandardCharsets.UTF_8);
    int split = text.indexOf("\r\n\r\n");
    String head = text.substring(0, split);
    String body = text.substring(split + 4);
    if (head.toLowerCase().contains("transfer-encoding: chunked")) {
      body = dechunk(body);
    }
    return new Answer(Integer.parseInt(head.split(" ")[1]), head, body);
  }

  private static String dechunk(String chunked) {
    StringBuilder out = new StringBuilder();
    int pos = 0;
    while (true) {
      int end = chunked.indexOf("\r\n", pos);
      int size = Integer.parseInt(chunked.substring(pos, end).trim(), 16);
      if (size == 0) {
        return out.toString();
      }
      // Problem bodies are ASCII, so characters and bytes agree.
      out.append(chunked, end + 2, end + 2 + size);
      pos = end + 2 + size + 2;
    }
  }
}
