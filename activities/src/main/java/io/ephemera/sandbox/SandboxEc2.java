package io.ephemera.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * An in-process stand-in for the parts of EC2 and SSM that single-use runners use, for the {@code
 * local} profile only. It is an HTTP server on loopback speaking the EC2 Query API (form-encoded
 * POSTs, XML answers in the documented shapes) and the SSM JSON API ({@code X-Amz-Target:
 * AmazonSSM.*}), so the real {@code Ec2Runners} adapter talks to it through the real AWS SDK with
 * {@code endpointOverride}, {@link #REGION} and the dummy {@link #credentials()} (signatures are
 * not checked).
 *
 * <p>Served: {@code RunInstances} (with {@code ClientToken} idempotency and tags), {@code
 * DescribeInstances} (filters {@code tag:<key>}, {@code tag-key}, {@code instance-state-name},
 * {@code instance-id}, {@code instance-type}; {@code InstanceId.N}; {@code MaxResults}/{@code
 * NextToken} paging), {@code TerminateInstances} (an unknown id fails the call with {@code
 * InvalidInstanceID.NotFound}, as EC2 does); {@code PutParameter}, {@code GetParameter}, {@code
 * DeleteParameter}. An instance is {@code pending} for {@code stateDelay}, then {@code running};
 * after a terminate it is {@code shutting-down} for {@code stateDelay}, then {@code terminated}.
 * Terminated instances stay visible to DescribeInstances for {@link #TERMINATED_VISIBLE}, as in
 * EC2, then are forgotten.
 *
 * <p>What it is not: nothing boots, no user data runs, no runner ever asks GitLab for a job, so the
 * sandbox never pretends a job ran; jobs finish only when a Job Hook says so. An instance stays
 * {@code running} until it is terminated. No IAM, no signatures, no quotas, no capacity errors;
 * state in memory only, lost on restart. To use AWS, unset the sandbox and configure {@code
 * ephemera.runners.ec2.*} with real credentials.
 */
public final class SandboxEc2 implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SandboxEc2.class);

  /** The region clients of the sandbox must use. */
  public static final String REGION = "us-east-1";

  /** As in EC2, which shows terminated instances for about an hour. */
  public static final Duration TERMINATED_VISIBLE = Duration.ofHours(1);

  static final String EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/";

  /**
   * MockWebServer logs every request at INFO through java.util.logging. Held strongly, since JUL
   * forgets the level of a logger nobody holds.
   */
  private static final java.util.logging.Logger MOCK_WEB_SERVER_LOG =
      java.util.logging.Logger.getLogger(MockWebServer.class.getName());

  private static final ObjectMapper JSON = new ObjectMapper();

  private final MockWebServer server = new MockWebServer();
  private final Duration stateDelay;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final SandboxFaults faults = new SandboxFaults("EC2");

  // All state below is guarded by "this".
  private final Map<String, SandboxInstance> instances = new LinkedHashMap<>();
  private final Map<String, String> instanceByClientToken = new LinkedHashMap<>();
  private final Map<String, Parameter> parameters = new TreeMap<>();

  private SandboxEc2(Duration stateDelay, Clock clock) {
    this.stateDelay = stateDelay;
    this.clock = clock;
  }

  /**
   * Starts the sandbox on a random loopback port.
   *
   * @param stateDelay how long an instance stays {@code pending} before {@code running}, and {@code
   *     shutting-down} before {@code terminated}
   */
  public static SandboxEc2 start(Duration stateDelay) {
    return start(stateDelay, Clock.systemUTC());
  }

  static SandboxEc2 start(Duration stateDelay, Clock clock) {
    Objects.requireNonNull(stateDelay, "stateDelay");
    if (stateDelay.isNegative()) {
      throw new IllegalArgumentException("stateDelay must not be negative");
    }
    MOCK_WEB_SERVER_LOG.setLevel(Level.WARNING);
    SandboxEc2 sandbox = new SandboxEc2(stateDelay, clock);
    sandbox.server.setDispatcher(sandbox.new Handler());
    try {
      sandbox.server.start(InetAddress.getLoopbackAddress(), 0);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the EC2 sandbox", e);
    }
    log.info(
        "EC2 and SSM SANDBOX at {}: an in-memory stand-in, not AWS. Nothing boots and no runner"
            + " runs; instances are pending for {} then running until terminated, and everything"
            + " is lost on restart. For AWS configure ephemera.runners.ec2.* with credentials.",
        sandbox.endpoint(),
        stateDelay);
    return sandbox;
  }

  /** The endpoint to give both the EC2 and the SSM client as {@code endpointOverride}. */
  public URI endpoint() {
    return server.url("/").uri();
  }

  /**
   * Probabilistic fault injection for chaos tests (off by default): see {@link SandboxFaults}. A
   * faulted EC2 or SSM call is answered 5xx, hung up on, or applied and then hung up on.
   */
  public SandboxFaults faults() {
    return faults;
  }

  /** Dummy static credentials: the sandbox checks no signature, and no real key is ever needed. */
  public static AwsCredentialsProvider credentials() {
    return StaticCredentialsProvider.create(
        AwsBasicCredentials.create("SANDBOXACCESSKEY", "sandbox-secret-key-not-a-secret"));
  }

  /**
   * What the sandbox holds, for {@code /sandbox/inventory}: instances that are not yet {@code
   * terminated} (pending, running, shutting-down: what would still cost money), with their state,
   * sorted by launch; terminated ones are left out because they are gone. Parameter names only,
   * never their values.
   */
  public synchronized Inventory inventory() {
    Instant now = clock.instant();
    forgetOld(now);
    List<InstanceEntry> live = new ArrayList<>();
    for (SandboxInstance i : instances.values()) {
      String state = i.state(now, stateDelay);
      if (!"terminated".equals(state)) {
        live.add(new InstanceEntry(i.id, state, i.type, i.image, Map.copyOf(i.tags)));
      }
    }
    return new Inventory(List.copyOf(live), List.copyOf(parameters.keySet()));
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    server.close();
  }

  /** Instances (not terminated) and SSM parameter names. */
  public record Inventory(List<InstanceEntry> instances, List<String> parameters) {}

  /**
   * One instance: id, state ({@code pending}, {@code running}, {@code shutting-down}), instance
   * type, AMI id or launch template, tags.
   */
  public record InstanceEntry(
      String id, String state, String type, String image, Map<String, String> tags) {}

  // ---- HTTP ----

  private final class Handler extends Dispatcher {
    @Override
    public MockResponse dispatch(RecordedRequest request) {
      forgetRequests();
      return faults.serve(
          () -> dispatchOrError(request),
          status -> {
            String code = status == 503 ? "ServiceUnavailable" : "InternalError";
            String target = request.getHeaders().get("X-Amz-Target");
            if (target != null && target.startsWith("AmazonSSM.")) {
              ObjectNode out = JSON.createObjectNode();
              out.put("__type", code);
              out.put("message", "sandbox fault injection");
              return json(status, out);
            }
            return ec2Error(status, code, "sandbox fault injection");
          });
    }

    private MockResponse dispatchOrError(RecordedRequest request) {
      try {
        String target = request.getHeaders().get("X-Amz-Target");
        String body = request.getBody() == null ? "" : request.getBody().utf8();
        if (target != null && target.startsWith("AmazonSSM.")) {
          return ssm(target.substring("AmazonSSM.".length()), body);
        }
        if (!"POST".equals(request.getMethod())) {
          return ec2Error(400, "InvalidAction", "the sandbox answers POSTed EC2 actions only");
        }
        return ec2(form(body));
      } catch (SandboxError e) {
        return e.response;
      } catch (RuntimeException e) {
        log.warn("EC2 sandbox failed on {}", request.getRequestLine(), e);
        return ec2Error(500, "InternalError", "sandbox failure: " + e.getMessage());
      }
    }
  }

  /** MockWebServer keeps every request for tests to take; a sandbox running for days must not. */
  private void forgetRequests() {
    try {
      while (server.takeRequest(0, TimeUnit.MILLISECONDS) != null) {
        // drained
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---- EC2 ----

  private MockResponse ec2(Map<String, String> p) {
    String action = p.getOrDefault("Action", "");
    return switch (action) {
      case "RunInstances" -> runInstances(p);
      case "DescribeInstances" -> describeInstances(p);
      case "TerminateInstances" -> terminateInstances(p);
      default ->
          ec2Error(
              400,
              "InvalidAction",
              "The action " + action + " is not valid for this web service (sandbox)");
    };
  }

  private synchronized MockResponse runInstances(Map<String, String> p) {
    Instant now = clock.instant();
    if (!"1".equals(p.get("MinCount")) || !"1".equals(p.get("MaxCount"))) {
      // Runners are single-use: the sandbox refuses what Ephemera never asks for.
      throw new SandboxError(
          ec2Error(400, "InvalidParameterValue", "the sandbox starts one instance per call"));
    }
    String clientToken = p.get("ClientToken");
    if (clientToken != null && instanceByClientToken.containsKey(clientToken)) {
      // EC2's idempotency: the same token answers the same reservation.
      SandboxInstance same = instances.get(instanceByClientToken.get(clientToken));
      if (same != null) {
        return xml(200, reservationXml("RunInstancesResponse", same, now));
      }
    }
    String image = p.get("ImageId");
    if (image == null) {
      image = p.get("LaunchTemplate.LaunchTemplateName");
    }
    if (image == null) {
      image = p.get("LaunchTemplate.LaunchTemplateId");
    }
    if (image == null) {
      throw new SandboxError(
          ec2Error(400, "MissingParameter", "The request must contain the parameter ImageId"));
    }
    if (p.containsKey("ImageId") && !image.matches("ami-[0-9a-f]{8,17}")) {
      throw new SandboxError(
          ec2Error(400, "InvalidAMIID.Malformed", "Invalid id: \"" + image + "\""));
    }
    String type = p.getOrDefault("InstanceType", "t3.micro");
    Map<String, String> tags = new TreeMap<>();
    for (int n = 1; p.containsKey("TagSpecification." + n + ".ResourceType"); n++) {
      if (!"instance".equals(p.get("TagSpecification." + n + ".ResourceType"))) {
        continue;
      }
      for (int m = 1; p.containsKey("TagSpecification." + n + ".Tag." + m + ".Key"); m++) {
        tags.put(
            p.get("TagSpecification." + n + ".Tag." + m + ".Key"),
            p.getOrDefault("TagSpecification." + n + ".Tag." + m + ".Value", ""));
      }
    }
    SandboxInstance i =
        new SandboxInstance(
            "i-" + hex(17), "r-" + hex(17), image, type, tags, now, p.get("SubnetId"));
    instances.put(i.id, i);
    if (clientToken != null) {
      instanceByClientToken.put(clientToken, i.id);
    }
    log.info("Sandbox EC2: started {} ({}, {}) tags {}", i.id, type, image, tags);
    return xml(200, reservationXml("RunInstancesResponse", i, now));
  }

  private synchronized MockResponse describeInstances(Map<String, String> p) {
    Instant now = clock.instant();
    forgetOld(now);
    List<String> ids = indexed(p, "InstanceId.");
    for (String id : ids) {
      if (!instances.containsKey(id)) {
        throw new SandboxError(notFound(id));
      }
    }
    List<SandboxInstance> matching = new ArrayList<>();
    for (SandboxInstance i : instances.values()) {
      if ((ids.isEmpty() || ids.contains(i.id)) && matchesFilters(i, p, now)) {
        matching.add(i);
      }
    }
    int from = 0;
    if (p.containsKey("NextToken")) {
      try {
        from = Integer.parseInt(p.get("NextToken"));
      } catch (NumberFormatException e) {
        throw new SandboxError(
            ec2Error(400, "InvalidPaginationToken", "The token is not valid (sandbox)"));
      }
    }
    int size = matching.size();
    if (p.containsKey("MaxResults")) {
      size = Integer.parseInt(p.get("MaxResults"));
      if (size < 5 || size > 1000) {
        throw new SandboxError(
            ec2Error(400, "InvalidParameterValue", "MaxResults must be between 5 and 1000"));
      }
    }
    int to = Math.min(matching.size(), from + size);
    StringBuilder b = new StringBuilder();
    b.append("<DescribeInstancesResponse xmlns=\"").append(EC2_NS).append("\">");
    b.append("<requestId>").append(requestId()).append("</requestId><reservationSet>");
    for (SandboxInstance i : matching.subList(Math.min(from, to), to)) {
      b.append("<item><reservationId>").append(i.reservationId).append("</reservationId>");
      b.append("<ownerId>000000000000</ownerId><groupSet/><instancesSet>");
      appendInstance(b, i, now);
      b.append("</instancesSet></item>");
    }
    b.append("</reservationSet>");
    if (to < matching.size()) {
      b.append("<nextToken>").append(to).append("</nextToken>");
    }
    b.append("</DescribeInstancesResponse>");
    return xml(200, b.toString());
  }

  private boolean matchesFilters(SandboxInstance i, Map<String, String> p, Instant now) {
    for (int n = 1; p.containsKey("Filter." + n + ".Name"); n++) {
      String name = p.get("Filter." + n + ".Name");
      List<String> values = indexed(p, "Filter." + n + ".Value.");
      String actual;
      if (name.startsWith("tag:")) {
        actual = i.tags.get(name.substring(4));
      } else {
        switch (name) {
          case "tag-key" -> {
            if (values.stream().noneMatch(i.tags::containsKey)) {
              return false;
            }
            continue;
          }
          case "instance-state-name" -> actual = i.state(now, stateDelay);
          case "instance-id" -> actual = i.id;
          case "instance-type" -> actual = i.type;
          default ->
              throw new SandboxError(
                  ec2Error(
                      400,
                      "InvalidParameterValue",
                      "The filter '" + name + "' is invalid (or not served by the sandbox)"));
        }
      }
      if (actual == null || !values.contains(actual)) {
        return false;
      }
    }
    return true;
  }

  private synchronized MockResponse terminateInstances(Map<String, String> p) {
    Instant now = clock.instant();
    List<String> ids = indexed(p, "InstanceId.");
    if (ids.isEmpty()) {
      throw new SandboxError(
          ec2Error(400, "MissingParameter", "The request must contain the parameter InstanceId"));
    }
    for (String id : ids) {
      if (!instances.containsKey(id)) {
        // As in EC2: one unknown id fails the whole call.
        throw new SandboxError(notFound(id));
      }
    }
    StringBuilder b = new StringBuilder();
    b.append("<TerminateInstancesResponse xmlns=\"").append(EC2_NS).append("\">");
    b.append("<requestId>").append(requestId()).append("</requestId><instancesSet>");
    for (String id : ids) {
      SandboxInstance i = instances.get(id);
      String previous = i.state(now, stateDelay);
      if (i.terminateRequested == null) {
        i.terminateRequested = now;
        log.info("Sandbox EC2: terminating {}", id);
      }
      String current = i.state(now, stateDelay);
      b.append("<item><instanceId>").append(id).append("</instanceId>");
      b.append("<currentState>").append(stateXml(current)).append("</currentState>");
      b.append("<previousState>").append(stateXml(previous)).append("</previousState></item>");
    }
    b.append("</instancesSet></TerminateInstancesResponse>");
    return xml(200, b.toString());
  }

  private String reservationXml(String root, SandboxInstance i, Instant now) {
    StringBuilder b = new StringBuilder();
    b.append('<').append(root).append(" xmlns=\"").append(EC2_NS).append("\">");
    b.append("<requestId>").append(requestId()).append("</requestId>");
    b.append("<reservationId>").append(i.reservationId).append("</reservationId>");
    b.append("<ownerId>000000000000</ownerId><groupSet/><instancesSet>");
    appendInstance(b, i, now);
    b.append("</instancesSet></").append(root).append('>');
    return b.toString();
  }

  private void appendInstance(StringBuilder b, SandboxInstance i, Instant now) {
    b.append("<item><instanceId>").append(i.id).append("</instanceId>");
    if (i.image.startsWith("ami-")) {
      b.append("<imageId>").append(esc(i.image)).append("</imageId>");
    }
    b.append("<instanceState>").append(stateXml(i.state(now, stateDelay)));
    b.append("</instanceState>");
    b.append("<instanceType>").append(esc(i.type)).append("</instanceType>");
    b.append("<launchTime>").append(i.launched).append("</launchTime>");
    if (i.subnetId != null) {
      b.append("<subnetId>").append(esc(i.subnetId)).append("</subnetId>");
    }
    b.append("<tagSet>");
    for (Map.Entry<String, String> t : i.tags.entrySet()) {
      b.append("<item><key>").append(esc(t.getKey())).append("</key><value>");
      b.append(esc(t.getValue())).append("</value></item>");
    }
    b.append("</tagSet></item>");
  }

  private static String stateXml(String state) {
    int code =
        switch (state) {
          case "pending" -> 0;
          case "running" -> 16;
          case "shutting-down" -> 32;
          case "terminated" -> 48;
          default -> throw new IllegalStateException(state);
        };
    return "<code>" + code + "</code><name>" + state + "</name>";
  }

  private MockResponse notFound(String id) {
    return ec2Error(
        400, "InvalidInstanceID.NotFound", "The instance ID '" + id + "' does not exist");
  }

  private MockResponse ec2Error(int status, String code, String message) {
    return xml(
        status,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>"
            + esc(code)
            + "</Code><Message>"
            + esc(message)
            + "</Message></Error></Errors><RequestID>"
            + requestId()
            + "</RequestID></Response>");
  }

  private static MockResponse xml(int status, String body) {
    return new MockResponse.Builder()
        .code(status)
        .addHeader("Content-Type", "text/xml;charset=UTF-8")
        .body(body)
        .build();
  }

  /** Terminated instances past their visibility, and their client tokens, are forgotten. */
  private void forgetOld(Instant now) {
    instances
        .values()
        .removeIf(
            i ->
                i.terminateRequested != null
                    && now.isAfter(i.terminateRequested.plus(stateDelay).plus(TERMINATED_VISIBLE)));
    instanceByClientToken.values().removeIf(id -> !instances.containsKey(id));
  }

  // ---- SSM ----

  private synchronized MockResponse ssm(String operation, String body) {
    JsonNode in;
    try {
      in = body.isBlank() ? JSON.createObjectNode() : JSON.readTree(body);
    } catch (IOException e) {
      return ssmError("SerializationException", "the request body is not JSON");
    }
    String name = in.path("Name").asText(null);
    switch (operation) {
      case "PutParameter" -> {
        if (name == null || !in.has("Value")) {
          return ssmError("ValidationException", "Name and Value are required");
        }
        Parameter old = parameters.get(name);
        if (old != null && !in.path("Overwrite").asBoolean(false)) {
          return ssmError("ParameterAlreadyExists", "The parameter already exists.");
        }
        long version = old == null ? 1 : old.version + 1;
        String type = in.path("Type").asText(old == null ? "String" : old.type);
        parameters.put(
            name, new Parameter(type, in.path("Value").asText(), version, clock.instant()));
        // Never the value: the sandbox logs like production would.
        log.info("Sandbox SSM: put parameter {} ({}, version {})", name, type, version);
        ObjectNode out = JSON.createObjectNode();
        out.put("Version", version);
        out.put("Tier", "Standard");
        return json(200, out);
      }
      case "GetParameter" -> {
        Parameter p = name == null ? null : parameters.get(name);
        if (p == null) {
          return ssmError("ParameterNotFound", "Parameter " + name + " not found.");
        }
        boolean decrypt = in.path("WithDecryption").asBoolean(false);
        ObjectNode parameter = JSON.createObjectNode();
        parameter.put("Name", name);
        parameter.put("Type", p.type);
        // Without decryption SSM answers the ciphertext of a SecureString; the sandbox, a marker.
        parameter.put(
            "Value",
            "SecureString".equals(p.type) && !decrypt ? "(encrypted in the sandbox)" : p.value);
        parameter.put("Version", p.version);
        parameter.put("DataType", "text");
        parameter.put("ARN", "arn:aws:ssm:" + REGION + ":000000000000:parameter" + name);
        parameter.put("LastModifiedDate", p.modified.getEpochSecond());
        ObjectNode out = JSON.createObjectNode();
        out.set("Parameter", parameter);
        return json(200, out);
      }
      case "DeleteParameter" -> {
        if (name == null || parameters.remove(name) == null) {
          return ssmError("ParameterNotFound", "Parameter " + name + " not found.");
        }
        log.info("Sandbox SSM: deleted parameter {}", name);
        return json(200, JSON.createObjectNode());
      }
      default -> {
        return ssmError("UnknownOperationException", operation + " is not served by the sandbox");
      }
    }
  }

  private static MockResponse ssmError(String type, String message) {
    ObjectNode out = JSON.createObjectNode();
    out.put("__type", type);
    out.put("message", message);
    return json(400, out);
  }

  private static MockResponse json(int status, JsonNode body) {
    return new MockResponse.Builder()
        .code(status)
        .addHeader("Content-Type", "application/x-amz-json-1.1")
        .body(body.toString())
        .build();
  }

  // ---- helpers ----

  private static Map<String, String> form(String body) {
    Map<String, String> p = new LinkedHashMap<>();
    for (String pair : body.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      String v = eq < 0 ? "" : pair.substring(eq + 1);
      p.put(
          URLDecoder.decode(k, StandardCharsets.UTF_8),
          URLDecoder.decode(v, StandardCharsets.UTF_8));
    }
    return p;
  }

  /** {@code prefix1}, {@code prefix2}, ... in order, as the Query API numbers list members. */
  private static List<String> indexed(Map<String, String> p, String prefix) {
    List<String> values = new ArrayList<>();
    for (int n = 1; p.containsKey(prefix + n); n++) {
      values.add(p.get(prefix + n));
    }
    return values;
  }

  private String hex(int chars) {
    byte[] b = new byte[(chars + 1) / 2];
    random.nextBytes(b);
    return HexFormat.of().formatHex(b).substring(0, chars);
  }

  private String requestId() {
    return hex(8) + "-" + hex(4) + "-" + hex(4) + "-" + hex(4) + "-" + hex(12);
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;")
        .replace("'", "&apos;");
  }

  /** An answer decided before the end of a handler: an error response. */
  private static final class SandboxError extends RuntimeException {
    final transient MockResponse response;

    SandboxError(MockResponse response) {
      super(null, null, false, false);
      this.response = response;
    }
  }

  private record Parameter(String type, String value, long version, Instant modified) {}

  /** Mutable only under the sandbox's lock. */
  private static final class SandboxInstance {
    final String id;
    final String reservationId;
    final String image;
    final String type;
    final Map<String, String> tags;
    final Instant launched;
    final String subnetId;
    Instant terminateRequested;

    SandboxInstance(
        String id,
        String reservationId,
        String image,
        String type,
        Map<String, String> tags,
        Instant launched,
        String subnetId) {
      this.id = id;
      this.reservationId = reservationId;
      this.image = image;
      this.type = type;
      this.tags = tags;
      this.launched = launched;
      this.subnetId = subnetId;
    }

    /** The state at {@code now}: computed, so no thread is needed to move instances along. */
    String state(Instant now, Duration delay) {
      if (terminateRequested != null) {
        return now.isBefore(terminateRequested.plus(delay)) ? "shutting-down" : "terminated";
      }
      return now.isBefore(launched.plus(delay)) ? "pending" : "running";
    }
  }
}
