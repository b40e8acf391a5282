package io.ephemera.api.codec;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.ephemera.api.error.ApiException;
import io.ephemera.api.error.ProblemType;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.common.v1.Payloads;
import io.temporal.client.WorkflowClient;
import io.temporal.payload.codec.PayloadCodec;
import io.temporal.payload.codec.PayloadCodecException;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

/**
 * The Temporal codec-server protocol over Ephemera's payload codec, so that operators read
 * encrypted workflow histories in the Temporal UI (or {@code temporal workflow show
 * --codec-endpoint}): {@code POST /codec/decode} and {@code POST /codec/encode} each take a {@code
 * Payloads} message as proto3 JSON ({@code {"payloads":[{"metadata":{"encoding":"<base64>"},
 * "data":"<base64>"}]}}) and answer the same shape.
 *
 * <p>The body is read here, with a hard cap, and parsed with protobuf's own JSON format (the
 * protocol requires it: bytes are base64, unknown fields are errors). Bearer authentication comes
 * from {@code BearerTokenInterceptor}, CORS from {@link CodecCorsConfiguration}.
 */
@RestController
@Tag(
    name = "Codec",
    description =
        "Temporal codec server: decodes and encodes the encrypted payloads of workflow histories"
            + " for the Temporal UI and CLI.")
class CodecController {
  static final String NAMESPACE = "X-Namespace";

  private static final JsonFormat.Parser PARSER = JsonFormat.parser();
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().omittingInsignificantWhitespace();

  private static final String PAYLOADS_DESCRIPTION =
      "A Temporal `Payloads` message as proto3 JSON: every metadata value and the data are"
          + " base64. At most `ephemera.codec.max-request-size` bytes.";

  /** The wire shape, for the OpenAPI document only: the code parses with protobuf's JSON format. */
  @Schema(name = "Payloads", description = "A Temporal `Payloads` message as proto3 JSON.")
  record PayloadsJson(
      @Schema(requiredMode = Schema.RequiredMode.REQUIRED) List<PayloadJson> payloads) {}

  @Schema(name = "Payload", description = "One Temporal payload; bytes are base64.")
  record PayloadJson(
      @Schema(
              description =
                  "Metadata values, base64; e.g. `encoding` is `YmluYXJ5L2VuY3J5cHRlZA==`"
                      + " (`binary/encrypted`) on an encrypted payload, which also carries"
                      + " `encryption-key-id`.")
          Map<String, String> metadata,
      @Schema(description = "The payload's data, base64.", format = "byte") String data) {}

  private final ObjectProvider<CodecEndpointSettings> settings;
  private final String namespace;

  CodecController(ObjectProvider<CodecEndpointSettings> settings, WorkflowClient client) {
    this.settings = settings;
    this.namespace = client.getOptions().getNamespace();
  }

  @PostMapping(
      path = "/codec/decode",
      consumes = MediaType.APPLICATION_JSON_VALUE,
      produces = MediaType.APPLICATION_JSON_VALUE)
  @Operation(
      operationId = "decodePayloads",
      summary = "Decode payloads (Temporal codec server)",
      description =
          "Decrypts every `binary/encrypted` payload with the key its `encryption-key-id` names;"
              + " other payloads come back unchanged. The answer has the same payloads, in order.",
      requestBody =
          @io.swagger.v3.oas.annotations.parameters.RequestBody(
              required = true,
              description = PAYLOADS_DESCRIPTION,
              content =
                  @Content(
                      mediaType = MediaType.APPLICATION_JSON_VALUE,
                      schema = @Schema(implementation = PayloadsJson.class))))
  @ApiResponse(
      responseCode = "200",
      description = "The decoded payloads, as proto3 JSON.",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON_VALUE,
              schema = @Schema(implementation = PayloadsJson.class)))
  @ApiResponse(
      responseCode = "400",
      description =
          "Not a `Payloads` message in proto3 JSON (`malformed-payload`); an `X-Namespace` other"
              + " than the configured Temporal namespace (`invalid-field`); an encrypted payload"
              + " whose key is unknown or whose authentication fails (`payload-codec-failed`,"
              + " naming the key id).")
  @ApiResponse(
      responseCode = "403",
      description =
          "A browser request from an origin not in `ephemera.codec.cors-origins`"
              + " (`origin-not-allowed`).")
  @ApiResponse(
      responseCode = "404",
      description = "The codec is off (`ephemera.codec.enabled=false`): `codec-disabled`.")
  @ApiResponse(
      responseCode = "413",
      description =
          "Larger than `ephemera.codec.max-request-size` (`payload-too-large`, with `limit`).")
  @ApiResponse(responseCode = "415", description = "Not `application/json`.")
  ResponseEntity<String> decode(
      @Parameter(description = NAMESPACE_DESCRIPTION)
          @RequestHeader(name = NAMESPACE, required = false)
          String requestNamespace,
      @Parameter(hidden = true) HttpServletRequest request) {
    return convert(requestNamespace, request, codec -> codec::decode);
  }

  @PostMapping(
      path = "/codec/encode",
      consumes = MediaType.APPLICATION_JSON_VALUE,
      produces = MediaType.APPLICATION_JSON_VALUE)
  @Operation(
      operationId = "encodePayloads",
      summary = "Encode payloads (Temporal codec server)",
      description =
          "Encrypts every payload with the current key, as workers and the api do; used by the"
              + " Temporal UI and CLI to send signal or start inputs.",
      requestBody =
          @io.swagger.v3.oas.annotations.parameters.RequestBody(
              required = true,
              description = PAYLOADS_DESCRIPTION,
              content =
                  @Content(
                      mediaType = MediaType.APPLICATION_JSON_VALUE,
                      schema = @Schema(implementation = PayloadsJson.class))))
  @ApiResponse(
      responseCode = "200",
      description = "The encrypted payloads, as proto3 JSON.",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON_VALUE,
              schema = @Schema(implementation = PayloadsJson.class)))
  @ApiResponse(
      responseCode = "400",
      description =
          "Not a `Payloads` message in proto3 JSON (`malformed-payload`), or an `X-Namespace`"
              + " other than the configured Temporal namespace (`invalid-field`).")
  @ApiResponse(
      responseCode = "403",
      description =
          "A browser request from an origin not in `ephemera.codec.cors-origins`"
              + " (`origin-not-allowed`).")
  @ApiResponse(
      responseCode = "404",
      description = "The codec is off (`ephemera.codec.enabled=false`): `codec-disabled`.")
  @ApiResponse(
      responseCode = "413",
      description =
          "Larger than `ephemera.codec.max-request-size` (`payload-too-large`, with `limit`).")
  @ApiResponse(responseCode = "415", description = "Not `application/json`.")
  ResponseEntity<String> encode(
      @Parameter(description = NAMESPACE_DESCRIPTION)
          @RequestHeader(name = NAMESPACE, required = false)
          String requestNamespace,
      @Parameter(hidden = true) HttpServletRequest request) {
    return convert(requestNamespace, request, codec -> codec::encode);
  }

  private static final String NAMESPACE_DESCRIPTION =
      "The Temporal namespace of the payloads, as the Temporal UI and CLI send it. Only the"
          + " namespace Ephemera runs in is served; absent means that one.";

  private ResponseEntity<String> convert(
      String requestNamespace,
      HttpServletRequest request,
      Function<PayloadCodec, UnaryOperator<List<Payload>>> operation) {
    CodecEndpointSettings s = settings.getIfAvailable();
    PayloadCodec codec = s == null ? null : s.codec().orElse(null);
    if (codec == null) {
      throw new ApiException(
          ProblemType.CODEC_DISABLED,
          "Payload encryption is off in this deployment (ephemera.codec.enabled=false): histories"
              + " hold plain payloads and need no codec.");
    }
    checkNamespace(requestNamespace);
    Payloads in = parse(readBounded(request, s.maxRequestBytes()));
    Payloads out;
    try {
      out =
          Payloads.newBuilder()
              .addAllPayloads(operation.apply(codec).apply(in.getPayloadsList()))
              .build();
    } catch (PayloadCodecException e) {
      // The codec's messages name key ids and what failed, never key material or payload data.
      throw new ApiException(ProblemType.PAYLOAD_CODEC_FAILED, e.getMessage());
    }
    try {
      return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(PRINTER.print(out));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a Payloads message always prints as JSON", e);
    }
  }

  private void checkNamespace(String requestNamespace) {
    if (requestNamespace == null || requestNamespace.isBlank()) {
      return;
    }
    if (!requestNamespace.strip().equals(namespace)) {
      throw ApiException.invalidField(
          NAMESPACE,
          "This codec serves the Temporal namespace '"
              + namespace
              + "' only; the request is for another namespace.");
    }
  }

  private static Payloads parse(byte[] body) {
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(java.nio.ByteBuffer.wrap(body))
              .toString();
    } catch (CharacterCodingException e) {
      throw malformed("The request body is not UTF-8.");
    }
    if (text.isBlank()) {
      throw malformed("The request body is missing; send {\"payloads\":[...]}.");
    }
    Payloads.Builder payloads = Payloads.newBuilder();
    try {
      PARSER.merge(text, payloads);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      // protobuf's message says which field failed; it never echoes a whole payload.
      throw malformed(
          "The request body is not a Payloads message in proto3 JSON"
              + " ({\"payloads\":[{\"metadata\":{\"k\":\"<base64>\"},\"data\":\"<base64>\"}]}).");
    }
    return payloads.build();
  }

  private static ApiException malformed(String detail) {
    return new ApiException(ProblemType.MALFORMED_PAYLOAD, detail);
  }

  private static byte[] readBounded(HttpServletRequest request, long limit) {
    long declared = request.getContentLengthLong();
    if (declared > limit) {
      throw tooLarge(limit);
    }
    byte[] body;
    try (InputStream in = request.getInputStream()) {
      body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
    } catch (IOException e) {
      throw new ApiException(
          ProblemType.MALFORMED_PAYLOAD, "The request body could not be read completely.", e);
    }
    if (body.length > limit) {
      throw tooLarge(limit);
    }
    return body;
  }

  private static ApiException tooLarge(long limit) {
    return new ApiException(
            ProblemType.PAYLOAD_TOO_LARGE,
            "The request is larger than ephemera.codec.max-request-size ("
                + limit
                + " bytes); send fewer payloads per request.")
        .with("limit", limit);
  }
}
