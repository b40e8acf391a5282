package io.ephemera.activity.compute;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The {@code gitlab-runner run-single} command line, shared by pods and instances. Flags as defined
 * by GitLab Runner's {@code commands/single.go} and {@code common/config.go}:
 *
 * <ul>
 *   <li>{@code --url} (env {@code CI_SERVER_URL}) and {@code --executor} (env {@code
 *       RUNNER_EXECUTOR}) are required;
 *   <li>the token flag {@code --token} reads the environment variable {@code CI_SERVER_TOKEN} when
 *       not given, which is how the token is handed over here: it never appears in a command line,
 *       so neither in the pod spec, nor in {@code ps}, nor in the EC2 user data;
 *   <li>{@code --max-builds 1}: exit after one job ("How many builds to process before exiting");
 *   <li>{@code --wait-timeout N}: exit when no job arrived within N seconds ("How long to wait in
 *       seconds before receiving the first job"); 0 would mean forever, so it is refused;
 *   <li>{@code --builds-dir}/{@code --cache-dir}: where the shell executor works, a writable
 *       directory we choose rather than the image's default.
 * </ul>
 */
final class RunSingle {
  /** The variable {@code gitlab-runner} reads its {@code --token} from. */
  static final String TOKEN_ENV = "CI_SERVER_TOKEN";

  /** gitlab-runner executor names: lower-case words such as {@code shell}, {@code docker}. */
  static final Pattern EXECUTOR = Pattern.compile("[a-z][a-z0-9+-]{0,30}");

  private RunSingle() {}

  static List<String> args(URI gitlabUrl, String executor, int waitTimeoutSeconds, String workDir) {
    List<String> args = new ArrayList<>();
    args.add("gitlab-runner");
    args.add("run-single");
    args.add("--url");
    args.add(gitlabUrl.toString());
    args.add("--executor");
    args.add(executor);
    args.add("--max-builds");
    args.add("1");
    args.add("--wait-timeout");
    args.add(Integer.toString(waitTimeoutSeconds));
    args.add("--builds-dir");
    args.add(workDir + "/builds");
    args.add("--cache-dir");
    args.add(workDir + "/cache");
    return args;
  }

  /** Checks a GitLab URL from configuration: absolute http(s), no user info, no query. */
  static URI gitlabUrl(String name, String value) {
    URI uri;
    try {
      uri = URI.create(value.trim());
    } catch (IllegalArgumentException e) {
      // The value is not echoed: a mistaken URL may hold a password.
      throw new IllegalArgumentException(name + " is not a URL", e);
    }
    String scheme = uri.getScheme();
    if (!("https".equals(scheme) || "http".equals(scheme)) || uri.getHost() == null) {
      throw new IllegalArgumentException(name + " must be an absolute http(s) URL");
    }
    if (uri.getUserInfo() != null || uri.getQuery() != null || uri.getFragment() != null) {
      // A user:password in the URL would end up in a command line and in user data.
      throw new IllegalArgumentException(name + " must not carry user info, a query or a fragment");
    }
    return uri;
  }
}
