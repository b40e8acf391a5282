package io.ephemera.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-process stand-in for an OCI registry, for the {@code local} profile only: MockWebServer on
 * loopback (random port, plain HTTP) answering the two endpoints the image builder's tag check
 * uses, as the distribution spec defines them:
 *
 * <ul>
 *   <li>{@code GET /v2/}: 200 with {@code Docker-Distribution-API-Version: registry/2.0}.
 *   <li>{@code HEAD|GET /v2/<repository>/manifests/<tag>}: 200 with a digest for a tag it was told
 *       about ({@link #push}, which the sandbox cluster calls when a build Job "succeeds"), else
 *       404 {@code MANIFEST_UNKNOWN}.
 * </ul>
 *
 * Every request needs Basic auth whose user name or password holds {@link #SECRET_MARKER}, the
 * marker of every credential the sandbox Vault issues, or gets 401 with a Basic challenge; that
 * proves the builder sends the issued credential. Nothing is stored but tags; no image can be
 * pulled, and everything is lost on restart. For a real registry set {@code
 * ephemera.review.registry}.
 */
public final class SandboxRegistry implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SandboxRegistry.class);

  /** Every secret a sandbox issues contains it, so tests can prove none reaches Temporal. */
  public static final String SECRET_MARKER = "ephemera-sandbox-secret";

  private static final java.util.logging.Logger MOCK_WEB_SERVER_LOG =
      java.util.logging.Logger.getLogger(MockWebServer.class.getName());

  private static final Pattern MANIFEST =
      Pattern.compile("/v2/([a-z0-9._/-]+)/manifests/([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})");

  private static final String MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";

  private final MockWebServer server = new MockWebServer();
  private final Clock clock;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final SandboxFaults faults = new SandboxFaults("registry");

  // Guarded by this: "repository:tag" -> when it was pushed.
  private final TreeMap<String, Instant> tags = new TreeMap<>();

  private SandboxRegistry(Clock clock) {
    this.clock = clock;
    MOCK_WEB_SERVER_LOG.setLevel(Level.WARNING);
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            forgetRequests();
            return faults.serve(
                () -> headSafe(request, dispatchOrError(request)),
                status ->
                    headSafe(request, error(status, "UNAVAILABLE", "sandbox fault injection")));
          }
        });
  }

  private MockResponse dispatchOrError(RecordedRequest request) {
    try {
      return dispatch(request);
    } catch (RuntimeException e) {
      log.warn("Sandbox registry failed on {}: {}", request.getRequestLine(), e.toString());
      return error(500, "UNKNOWN", "sandbox registry failure");
    }
  }

  /** A HEAD answer has headers only: body bytes would corrupt the kept-alive connection. */
  private static MockResponse headSafe(RecordedRequest request, MockResponse response) {
    return "HEAD".equals(request.getMethod())
        ? response.newBuilder().removeHeader("Content-Type").body("").build()
        : response;
  }

  /**
   * Probabilistic fault injection for chaos tests (off by default): see {@link SandboxFaults}. A
   * faulted request is answered 5xx, hung up on, or applied and then hung up on.
   */
  public SandboxFaults faults() {
    return faults;
  }

  /** Starts the sandbox on loopback; {@code port} 0 picks a free one. */
  public static SandboxRegistry start(int port) {
    SandboxRegistry registry = new SandboxRegistry(Clock.systemUTC());
    try {
      registry.server.start(InetAddress.getLoopbackAddress(), port);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot start the sandbox registry", e);
    }
    log.info(
        "Registry SANDBOX at {}: an in-memory stand-in that knows which tags were pushed, not a"
            + " registry; nothing can be pulled from it. For a real registry set"
            + " ephemera.review.registry.",
        registry.host());
    return registry;
  }

  /** The registry as an image reference names it, e.g. {@code 127.0.0.1:5000}. */
  public String host() {
    String h = InetAddress.getLoopbackAddress().getHostAddress();
    return (h.contains(":") ? "[" + h + "]" : h) + ":" + server.getPort();
  }

  /**
   * Records that {@code image} was pushed. The registry part is ignored: the sandbox cluster calls
   * this with the build's destination, whatever registry it names.
   *
   * @throws IllegalArgumentException when {@code image} has no tag
   */
  public synchronized void push(String image) {
    tags.put(repositoryAndTag(image), clock.instant());
    log.info("Sandbox registry: {} pushed", image);
  }

  /** Whether {@code repository:tag} (or a full reference, registry ignored) was pushed. */
  public synchronized boolean has(String image) {
    return tags.containsKey(repositoryAndTag(image));
  }

  /** What {@code /sandbox/inventory} lists under {@code images}, sorted. */
  public synchronized List<Image> inventory() {
    List<Image> images = new ArrayList<>();
    tags.forEach(
        (k, at) -> {
          int colon = k.lastIndexOf(':');
          images.add(new Image(k.substring(0, colon), k.substring(colon + 1), at));
        });
    return List.copyOf(images);
  }

  /** One pushed tag. */
  public record Image(String repository, String tag, Instant pushedAt) {}

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      server.close();
    }
  }

  private MockResponse dispatch(RecordedRequest request) {
    if (!authenticated(request.getHeaders().get("Authorization"))) {
      return new MockResponse.Builder()
          .code(401)
          .setHeader("WWW-Authenticate", "Basic realm=\"ephemera-sandbox-registry\"")
          .setHeader("Content-Type", "application/json")
          .body(errorBody("UNAUTHORIZED", "authentication required"))
          .build();
    }
    String path = request.getUrl().encodedPath();
    String method = request.getMethod();
    if (path.equals("/v2/") || path.equals("/v2")) {
      return method.equals("GET") || method.equals("HEAD")
          ? new MockResponse.Builder()
              .code(200)
              .setHeader("Docker-Distribution-API-Version", "registry/2.0")
              .setHeader("Content-Type", "application/json")
              .body(method.equals("GET") ? "{}" : "")
              .build()
          : error(405, "UNSUPPORTED", "the sandbox registry only answers reads");
    }
    Matcher m = MANIFEST.matcher(path);
    if (!m.matches()) {
      return error(404, "NAME_UNKNOWN", "the sandbox registry only serves manifests");
    }
    if (!method.equals("GET") && !method.equals("HEAD")) {
      return error(405, "UNSUPPORTED", "the sandbox registry only answers reads");
    }
    String key = m.group(1) + ":" + m.group(2);
    if (!has(key)) {
      return error(404, "MANIFEST_UNKNOWN", "manifest unknown to the sandbox registry");
    }
    String manifest =
        "{\"schemaVersion\":2,\"mediaType\":\""
            + MANIFEST_TYPE
            + "\",\"annotations\":{\"io.ephemera.sandbox\":\"no image was built\"}}";
    MockResponse.Builder b =
        new MockResponse.Builder()
            .code(200)
            .setHeader("Docker-Distribution-API-Version", "registry/2.0")
            .setHeader("Content-Type", MANIFEST_TYPE)
            .setHeader("Docker-Content-Digest", "sha256:" + sha256(manifest + key));
    if (method.equals("GET")) {
      b.body(manifest);
    }
    return b.build();
  }

  /** Basic auth holding the marker of sandbox-issued credentials, in the user or the password. */
  static boolean authenticated(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
      return false;
    }
    String decoded;
    try {
      decoded =
          new String(
              Base64.getDecoder().decode(authorization.substring(6).trim()),
              StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return false;
    }
    int colon = decoded.indexOf(':');
    return colon >= 0 && decoded.contains(SECRET_MARKER);
  }

  private static String repositoryAndTag(String image) {
    Objects.requireNonNull(image, "image");
    String ref = image.trim();
    int slash = ref.indexOf('/');
    if (slash > 0) {
      String first = ref.substring(0, slash);
      if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
        ref = ref.substring(slash + 1);
      }
    }
    int colon = ref.lastIndexOf(':');
    if (colon <= 0 || colon < ref.lastIndexOf('/') || colon == ref.length() - 1) {
      throw new IllegalArgumentException("image reference " + image + " has no tag");
    }
    return ref;
  }

  private static MockResponse error(int code, String errorCode, String message) {
    return new MockResponse.Builder()
        .code(code)
        .setHeader("Content-Type", "application/json")
        .body(errorBody(errorCode, message))
        .build();
  }

  private static String errorBody(String code, String message) {
    return "{\"errors\":[{\"code\":\"" + code + "\",\"message\":\"" + message + "\"}]}";
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every JRE", e);
    }
  }

  private void forgetRequests() {
    try {
      while (server.takeRequest(0, TimeUnit.MILLISECONDS) != null) {
        // drained
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
