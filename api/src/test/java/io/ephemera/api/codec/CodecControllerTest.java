package io.ephemera.api.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.options;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.header;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

import com.google.protobuf.ByteString;
import com.google.protobuf.util.JsonFormat;
import io.ephemera.apitest.ApiTestApplication;
import io.ephemera.apitest.Fixtures;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.common.v1.Payloads;
import io.temporal.client.WorkflowClient;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webmvc.test.autoconfigure.AutoConfigureMockMvc;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.request.MockHttpServletRequestBuilder;

/**
 * The codec server protocol, its authentication, CORS and errors, in the api's test application.
 */
@SpringBootTest(
    classes = ApiTestApplication.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureMockMvc
class CodecControllerTest {
  static final String TOKEN = "Bearer test-api-token";
  static final String PROBLEMS = "https://ephemera.io/problems/";
  static final String OTHER_ORIGIN = "https://evil.example.net";

  static final Payload PLAIN =
      Payload.newBuilder()
          .putMetadata("encoding", ByteString.copyFromUtf8("json/plain"))
          .setData(
              ByteString.copyFromUtf8("{\"sha\":\"da1560886d4f094c3e6c9ef40349f7d38b5d27d7\"}"))
          .build();

  @Autowired MockMvc mvc;
  @Autowired WorkflowClient client;

  @Test
  void withoutABearerTokenGets401() throws Exception {
    mvc.perform(post("/codec/decode").contentType(MediaType.APPLICATION_JSON).content(json(PLAIN)))
        .andExpect(status().isUnauthorized())
        .andExpect(header().string("WWW-Authenticate", "Bearer"))
        .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
        .andExpect(jsonPath("$.type").value(PROBLEMS + "unauthorized"));
    mvc.perform(
            post("/codec/encode")
                .header("Authorization", "Bearer wrong")
                .contentType(MediaType.APPLICATION_JSON)
                .content(json(PLAIN)))
        .andExpect(status().isUnauthorized());
  }

  @Test
  void encodeThenDecodeGivesBackTheOriginalPayloads() throws Exception {
    String encoded =
        mvc.perform(authed(post("/codec/encode")).content(json(PLAIN, PLAIN)))
            .andExpect(status().isOk())
            .andExpect(content().contentType(MediaType.APPLICATION_JSON))
            .andReturn()
            .getResponse()
            .getContentAsString();
    Payloads encrypted = parse(encoded);
    assertThat(encrypted.getPayloadsList())
        .hasSize(2)
        .allSatisfy(
            p -> {
              assertThat(p.getMetadataMap().get("encoding").toStringUtf8())
                  .isEqualTo("binary/encrypted");
              assertThat(p.getMetadataMap().get("encryption-key-id").toStringUtf8())
                  .isEqualTo(Fixtures.CODEC_KEY_ID);
            });
    // Fresh nonce each time: the same value never encrypts to the same bytes.
    assertThat(encrypted.getPayloads(0).getData()).isNotEqualTo(encrypted.getPayloads(1).getData());
    // The protocol's wire form: metadata values are base64, not plain strings.
    assertThat(encoded)
        .contains(
            "\"encoding\":\"" + Base64.getEncoder().encodeToString("binary/encrypted".getBytes()))
        .doesNotContain("da1560886d4f");

    String decoded =
        mvc.perform(authed(post("/codec/decode")).content(encoded))
            .andExpect(status().isOk())
            .andReturn()
            .getResponse()
            .getContentAsString();
    assertThat(parse(decoded).getPayloadsList()).containsExactly(PLAIN, PLAIN);
  }

  @Test
  void decodingPassesPayloadsThatAreNotEncryptedThroughUnchanged() throws Exception {
    String decoded =
        mvc.perform(authed(post("/codec/decode")).content(json(PLAIN)))
            .andExpect(status().isOk())
            .andReturn()
            .getResponse()
            .getContentAsString();
    assertThat(parse(decoded).getPayloadsList()).containsExactly(PLAIN);
  }

  @Test
  void aTamperedOrForeignPayloadIsA400NamingTheKeyId() throws Exception {
    Payload foreign =
        Payload.newBuilder()
            .putMetadata("encoding", ByteString.copyFromUtf8("binary/encrypted"))
            .putMetadata("encryption-key-id", ByteString.copyFromUtf8("retired-2024"))
            .setData(ByteString.copyFrom(new byte[40]))
            .build();
    mvc.perform(authed(post("/codec/decode")).content(json(foreign)))
        .andExpect(status().isBadRequest())
        .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
        .andExpect(jsonPath("$.type").value(PROBLEMS + "payload-codec-failed"))
        .andExpect(jsonPath("$.detail").value(containsString("'retired-2024'")));

    Payload tampered =
        foreign.toBuilder()
            .putMetadata("encryption-key-id", ByteString.copyFromUtf8(Fixtures.CODEC_KEY_ID))
            .build();
    mvc.perform(authed(post("/codec/decode")).content(json(tampered)))
        .andExpect(status().isBadRequest())
        .andExpect(jsonPath("$.type").value(PROBLEMS + "payload-codec-failed"))
        .andExpect(
            jsonPath("$.detail")
                .value(containsString("failed authentication with key '" + Fixtures.CODEC_KEY_ID)));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "not json",
        "[]",
        "{\"payloads\": {}}",
        "{\"payloads\": [{\"data\": \"not base64!\"}]}",
        "{\"payloads\": [{\"metadata\": \"encoding\"}]}",
        "{\"payload\": []}",
        " "
      })
  void aMalformedBodyIs400(String body) throws Exception {
    mvc.perform(authed(post("/codec/decode")).content(body))
        .andExpect(status().isBadRequest())
        .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
        .andExpect(jsonPath("$.type").value(PROBLEMS + "malformed-payload"));
  }

  @Test
  void anEmptyListIsAnEmptyAnswer() throws Exception {
    mvc.perform(authed(post("/codec/encode")).content("{\"payloads\":[]}"))
        .andExpect(status().isOk())
        .andExpect(content().json("{}"));
  }

  @Test
  void anotherNamespaceIsRefusedAndTheConfiguredOneServed() throws Exception {
    mvc.perform(
            authed(post("/codec/decode")).header("X-Namespace", "payments").content(json(PLAIN)))
        .andExpect(status().isBadRequest())
        .andExpect(jsonPath("$.type").value(PROBLEMS + "invalid-field"))
        .andExpect(jsonPath("$.field").value("X-Namespace"))
        .andExpect(jsonPath("$.detail").value(containsString("'" + namespace() + "'")));
    mvc.perform(
            authed(post("/codec/decode")).header("X-Namespace", namespace()).content(json(PLAIN)))
        .andExpect(status().isOk());
  }

  @Test
  void aBodyOverTheLimitIs413() throws Exception {
    Payload big = PLAIN.toBuilder().setData(ByteString.copyFrom(new byte[64 * 1024])).build();
    mvc.perform(authed(post("/codec/encode")).content(json(big)))
        .andExpect(status().isContentTooLarge())
        .andExpect(jsonPath("$.type").value(PROBLEMS + "payload-too-large"))
        .andExpect(jsonPath("$.limit").value(64 * 1024));
  }

  @Test
  void onlyJsonIsAccepted() throws Exception {
    mvc.perform(
            post("/codec/decode")
                .header("Authorization", TOKEN)
                .contentType(MediaType.TEXT_PLAIN)
                .content(json(PLAIN)))
        .andExpect(status().isUnsupportedMediaType())
        .andExpect(jsonPath("$.type").value(PROBLEMS + "unsupported-media-type"));
  }

  @Test
  void aPreflightFromTheTemporalUiIsAnsweredWithoutAToken() throws Exception {
    mvc.perform(
            options("/codec/decode")
                .header("Origin", Fixtures.CODEC_UI_ORIGIN)
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization,content-type,x-namespace"))
        .andExpect(status().isOk())
        .andExpect(header().string("Access-Control-Allow-Origin", Fixtures.CODEC_UI_ORIGIN))
        .andExpect(header().string("Access-Control-Allow-Credentials", "true"))
        .andExpect(header().string("Access-Control-Allow-Methods", containsString("POST")))
        .andExpect(header().string("Access-Control-Allow-Headers", containsString("authorization")))
        .andExpect(header().string("Access-Control-Allow-Headers", containsString("x-namespace")));

    // ...and the request that follows gets the CORS header too.
    mvc.perform(
            authed(post("/codec/decode"))
                .header("Origin", Fixtures.CODEC_UI_ORIGIN)
                .content(json(PLAIN)))
        .andExpect(status().isOk())
        .andExpect(header().string("Access-Control-Allow-Origin", Fixtures.CODEC_UI_ORIGIN));
  }

  @Test
  void anotherOriginIsRefusedBeforeAndAfterThePreflight() throws Exception {
    mvc.perform(
            options("/codec/decode")
                .header("Origin", OTHER_ORIGIN)
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization"))
        .andExpect(status().isForbidden())
        .andExpect(header().doesNotExist("Access-Control-Allow-Origin"))
        .andExpect(content().contentType(MediaType.APPLICATION_PROBLEM_JSON))
        .andExpect(jsonPath("$.type").value(PROBLEMS + "origin-not-allowed"));
    mvc.perform(authed(post("/codec/decode")).header("Origin", OTHER_ORIGIN).content(json(PLAIN)))
        .andExpect(status().isForbidden())
        .andExpect(header().doesNotExist("Access-Control-Allow-Origin"));
    // A header the UI does not send is not allowed either.
    mvc.perform(
            options("/codec/decode")
                .header("Origin", Fixtures.CODEC_UI_ORIGIN)
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "x-something-else"))
        .andExpect(status().isForbidden());
  }

  @Test
  void theRestApiGetsNoCorsAllowance() throws Exception {
    mvc.perform(
            options("/api/v1/review-apps")
                .header("Origin", Fixtures.CODEC_UI_ORIGIN)
                .header("Access-Control-Request-Method", "GET"))
        .andExpect(header().doesNotExist("Access-Control-Allow-Origin"));
  }

  private String namespace() {
    return client.getOptions().getNamespace();
  }

  static MockHttpServletRequestBuilder authed(MockHttpServletRequestBuilder request) {
    return request.header("Authorization", TOKEN).contentType(MediaType.APPLICATION_JSON);
  }

  static String json(Payload... payloads) throws Exception {
    return JsonFormat.printer()
        .print(Payloads.newBuilder().addAllPayloads(java.util.List.of(payloads)).build());
  }

  static Payloads parse(String json) throws Exception {
    Payloads.Builder b = Payloads.newBuilder();
    JsonFormat.parser().merge(json, b);
    return b.build();
  }
}
