package io.ephemera.api.codec;

import io.temporal.payload.codec.PayloadCodec;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the importing application gives the codec endpoint ({@code /codec/encode}, {@code
 * /codec/decode}): the codec its Temporal data converter uses, the Temporal UI origins allowed to
 * call it from a browser, and the largest request it reads. The worker module builds it from {@code
 * ephemera.codec.*}. Without this bean, or with a disabled one, both endpoints answer {@code 404
 * codec-disabled}.
 */
public final class CodecEndpointSettings {
  private final PayloadCodec codec;
  private final List<String> corsOrigins;
  private final long maxRequestBytes;

  private CodecEndpointSettings(
      PayloadCodec codec, List<String> corsOrigins, long maxRequestBytes) {
    if (maxRequestBytes < 1) {
      throw new IllegalArgumentException(
          "the codec endpoint's request limit must be positive, was " + maxRequestBytes);
    }
    this.codec = codec;
    this.corsOrigins = List.copyOf(Objects.requireNonNull(corsOrigins, "corsOrigins"));
    this.maxRequestBytes = maxRequestBytes;
  }

  /** The endpoint encodes and decodes with {@code codec}. */
  public static CodecEndpointSettings enabled(
      PayloadCodec codec, List<String> corsOrigins, long maxRequestBytes) {
    return new CodecEndpointSettings(
        Objects.requireNonNull(codec, "codec"), corsOrigins, maxRequestBytes);
  }

  /**
   * The codec is off: the endpoint says so ({@code 404 codec-disabled}), and still answers the
   * allowed origins' preflights so that the UI can read that answer.
   */
  public static CodecEndpointSettings disabled(List<String> corsOrigins, long maxRequestBytes) {
    return new CodecEndpointSettings(null, corsOrigins, maxRequestBytes);
  }

  public Optional<PayloadCodec> codec() {
    return Optional.ofNullable(codec);
  }

  /** Origins (scheme, host, port) of Temporal UIs allowed to call the endpoint from a browser. */
  public List<String> corsOrigins() {
    return corsOrigins;
  }

  public long maxRequestBytes() {
    return maxRequestBytes;
  }
}
