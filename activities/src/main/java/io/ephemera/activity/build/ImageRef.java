package io.ephemera.activity.build;

import java.util.regex.Pattern;

/**
 * An image reference split the way the distribution spec reads it: {@code registry/repository:tag}.
 * A first path component with a '.' or ':', or {@code localhost}, names the registry; otherwise the
 * image is on Docker Hub, whose single-name repositories live under {@code library/}.
 */
record ImageRef(String registry, String repository, String tag) {
  static final String DOCKER_HUB = "docker.io";

  /** Docker Hub's API host: {@code docker.io} itself serves no registry API. */
  static final String DOCKER_HUB_API = "registry-1.docker.io";

  private static final Pattern REPOSITORY =
      Pattern.compile(
          "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*");
  private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  private static final Pattern REGISTRY =
      Pattern.compile("[A-Za-z0-9.-]+(?::[0-9]{1,5})?|\\[[0-9a-fA-F:]+\\](?::[0-9]{1,5})?");

  /**
   * @throws IllegalArgumentException naming what is wrong; a digest reference is refused, since a
   *     build pushes a tag
   */
  static ImageRef parse(String reference) {
    if (reference == null || reference.isBlank()) {
      throw new IllegalArgumentException("no image reference given");
    }
    String ref = reference.trim();
    if (ref.contains("@")) {
      throw new IllegalArgumentException(
          "image reference " + ref + " names a digest; a build pushes a tag");
    }
    int slash = ref.indexOf('/');
    String registry = DOCKER_HUB;
    String rest = ref;
    if (slash > 0) {
      String first = ref.substring(0, slash);
      if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
        registry = first;
        rest = ref.substring(slash + 1);
      }
    }
    int colon = rest.lastIndexOf(':');
    if (colon < 0 || colon < rest.lastIndexOf('/')) {
      throw new IllegalArgumentException("image reference " + ref + " has no tag");
    }
    String repository = rest.substring(0, colon);
    String tag = rest.substring(colon + 1);
    if (registry.equals(DOCKER_HUB) && !repository.contains("/")) {
      repository = "library/" + repository;
    }
    if (!REGISTRY.matcher(registry).matches()
        || !REPOSITORY.matcher(repository).matches()
        || !TAG.matcher(tag).matches()) {
      throw new IllegalArgumentException("image reference " + ref + " is not valid");
    }
    return new ImageRef(registry, repository, tag);
  }

  /** The host the registry API is served on. */
  String apiHost() {
    return registry.equals(DOCKER_HUB) ? DOCKER_HUB_API : registry;
  }

  @Override
  public String toString() {
    return registry + "/" + repository + ":" + tag;
  }
}
