package io.ephemera.activity.credentials;

/** Which step credentials are for; each purpose has its own configured set. Never rename. */
public enum CredentialPurpose {
  /**
   * The image build: registry push, build-cache cloud credentials, source read. Revoked right after
   * the build.
   */
  BUILD,
  /** The running environment: registry pull. Revoked at teardown. */
  DEPLOY
}
