package io.ephemera.activity.credentials;

/**
 * The keys credentials are written under in a step's Secret: the contract between the credential
 * activity that writes them and the builder or Deployment that mounts them. A key is present only
 * when its credential is configured.
 */
public final class SecretKeys {
  private SecretKeys() {}

  /** Registry auth as a Docker config file ({@code kubernetes.io/dockerconfigjson}). */
  public static final String DOCKER_CONFIG = ".dockerconfigjson";

  /** Build-cache cloud credentials (AWS secrets engine), as the AWS SDK reads them from env. */
  public static final String AWS_ACCESS_KEY_ID = "AWS_ACCESS_KEY_ID";

  public static final String AWS_SECRET_ACCESS_KEY = "AWS_SECRET_ACCESS_KEY";
  public static final String AWS_SESSION_TOKEN = "AWS_SESSION_TOKEN";

  /** Source read credential for a git build context, as Kaniko reads it from env. */
  public static final String GIT_USERNAME = "GIT_USERNAME";

  public static final String GIT_PASSWORD = "GIT_PASSWORD";
}
