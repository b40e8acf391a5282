package io.ephemera.apitest;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * GitLab payloads from {@code src/test/resources/gitlab/}, adjustable per test; the codec
 * endpoint's test key and origin.
 */
public final class Fixtures {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  /** The codec endpoint's key in tests: 32 bytes of 0x2A, id {@value #CODEC_KEY_ID}. */
  public static final String CODEC_KEY_ID = "test-2026-01";

  /** The one Temporal UI origin the test application allows to call {@code /codec/**}. */
  public static final String CODEC_UI_ORIGIN = "https://temporal-ui.example.com";

  private Fixtures() {}

  public static Map<String, byte[]> codecKeys() {
    byte[] key = new byte[32];
    Arrays.fill(key, (byte) 0x2A);
    return Map.of(CODEC_KEY_ID, key);
  }

  public static byte[] bytes(String name) {
    try (InputStream in = Fixtures.class.getResourceAsStream("/gitlab/" + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no fixture gitlab/" + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static ObjectNode tree(String name) {
    return (ObjectNode) JSON.readTree(bytes(name));
  }

  /** A merge request fixture moved to another project and MR, so tests never share a workflow. */
  public static ObjectNode mergeRequest(String name, long projectId, long iid) {
    ObjectNode root = tree(name);
    ((ObjectNode) root.get("project")).put("id", projectId);
    ObjectNode attributes = (ObjectNode) root.get("object_attributes");
    attributes.put("iid", iid);
    attributes.put("source_project_id", projectId);
    attributes.put("target_project_id", projectId);
    return root;
  }

  /** A Job Hook fixture moved to another project and job, so tests never share a workflow. */
  public static ObjectNode job(String name, long projectId, long jobId) {
    ObjectNode root = tree(name);
    root.put("project_id", projectId);
    root.put("build_id", jobId);
    ((ObjectNode) root.get("project")).put("id", projectId);
    return root;
  }

  /** Puts the job on a runner; {@code description} is how its owning workflow is found. */
  public static ObjectNode onRunner(ObjectNode job, long runnerId, String description) {
    ObjectNode runner = job.putObject("runner");
    runner.put("id", runnerId);
    runner.put("description", description);
    runner.put("runner_type", "project_type");
    runner.put("active", true);
    runner.put("is_shared", false);
    runner.putArray("tags").add("docker");
    return job;
  }

  public static byte[] toBytes(ObjectNode node) {
    return JSON.writeValueAsBytes(node);
  }
}
