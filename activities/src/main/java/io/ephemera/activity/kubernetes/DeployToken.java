package io.ephemera.activity.kubernetes;

/**
 * The Secret that carries a deploy's Kubernetes token into the review namespace: the contract
 * between the credential activity that writes it (from Vault's Kubernetes secrets engine) and
 * {@link DeployTokenClients}, which talks to the cluster with it.
 */
public final class DeployToken {
  private DeployToken() {}

  /** Its name, in the review namespace. */
  public static final String SECRET_NAME = "ephemera-deploy-token";

  /** The key holding the bearer token. */
  public static final String TOKEN_KEY = "token";

  /** When the token's Vault lease ends (ISO-8601), so an expired token is named as such. */
  public static final String EXPIRES_AT_ANNOTATION = "ephemera.io/expires-at";

  /** The Vault path it was issued from, e.g. {@code kubernetes/creds/review-deployer}. */
  public static final String VAULT_PATH_ANNOTATION = "ephemera.io/vault-path";

  /** The service account the token belongs to, as {@code namespace/name}. */
  public static final String SERVICE_ACCOUNT_ANNOTATION = "ephemera.io/service-account";
}
