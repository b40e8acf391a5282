package io.ephemera.activity.config;

import java.time.Duration;

/**
 * Review-app settings as seen by workflow code.
 *
 * @param autoStop idle time after the last deploy or extend before teardown
 * @param autoStopJitter upper bound of the random delay added to each auto-stop time, so many
 *     timers set at once do not fire on the same second
 * @param maxExtend the longest {@code extend} accepted
 * @param hostTemplate host of the Ingress; {@code {iid}}, {@code {projectId}}, {@code {project}}
 *     and {@code {domain}} are replaced
 * @param domain the review domain
 * @param urlScheme {@code https} when the Ingress has TLS, else {@code http}
 * @param imageTemplate image reference; {@code {registry}}, {@code {project}} and {@code {sha}} are
 *     replaced
 * @param registry the registry in {@code imageTemplate}
 * @param namespaceStuckAfter how long a namespace may stay Terminating before it is reported
 * @param teardownPollInterval pause between checks of a namespace that is not gone yet
 * @param buildEnabled whether each deploy builds its image (credentials, then a build); when off,
 *     the image of {@code imageTemplate} is deployed as it is, built elsewhere (e.g. by CI)
 * @param buildNamespace where builds run and their credentials Secrets live
 */
public record ReviewSettings(
    Duration autoStop,
    Duration autoStopJitter,
    Duration maxExtend,
    String hostTemplate,
    String domain,
    String urlScheme,
    String imageTemplate,
    String registry,
    Duration namespaceStuckAfter,
    Duration teardownPollInterval,
    boolean buildEnabled,
    String buildNamespace) {

  public String host(long projectId, String projectSlug, long mrIid) {
    return hostTemplate
        .replace("{iid}", Long.toString(mrIid))
        .replace("{projectId}", Long.toString(projectId))
        .replace("{project}", projectSlug)
        .replace("{domain}", domain);
  }

  /**
   * The image of a commit. The project path is lower-cased, as GitLab's own container registry
   * does: image repositories are lower-case, GitLab paths need not be.
   */
  public String image(String projectPath, String sha) {
    return imageTemplate
        .replace("{registry}", registry)
        .replace("{project}", projectPath.toLowerCase(java.util.Locale.ROOT))
        .replace("{sha}", sha);
  }
}
