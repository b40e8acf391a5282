#!/bin/sh
# Applies Ephemera's Vault configuration with the vault CLI: auth methods (Kubernetes, AppRole,
# GitLab CI JWT), secrets engines (KV v2 at secret/, AWS at aws/), the policies in policies/ and
# the roles that carry them. Idempotent: run it again after changing anything here.
#
#   VAULT_ADDR=https://vault.example.com VAULT_TOKEN=... deploy/vault/setup.sh
#
# Everything else is optional and has a default:
#   EPHEMERA_NAMESPACE        namespace of the Helm release               (ephemera-system)
#   EPHEMERA_SERVICE_ACCOUNT  the chart's worker ServiceAccount           (ephemera-worker)
#   KUBERNETES_HOST           API server Vault verifies tokens against; empty: auth/kubernetes is
#                             enabled but left unconfigured (Vault running in the cluster can use
#                             its own service account: set KUBERNETES_HOST=https://kubernetes.default.svc)
#   GITLAB_URL                issuer of CI ID tokens                      (https://gitlab.com)
#   GITLAB_PROJECT_PATHS      comma-separated project_path globs allowed to log in from CI
#   JWT_AUDIENCE              aud of the CI ID token (id_tokens: VAULT_ID_TOKEN: aud:)  ($VAULT_ADDR)
#   AWS_BUILD_CACHE_ROLE_ARN  IAM role the build-cache credentials assume; empty: aws/ is enabled,
#                             the role not written
#   EPHEMERA_APPROLE_ROLE_ID / EPHEMERA_APPROLE_SECRET_ID
#                             fixed AppRole credentials (the local compose stack only); in
#                             production leave them unset and fetch a secret-id through your
#                             delivery pipeline
set -eu

: "${VAULT_ADDR:?set VAULT_ADDR to your Vault}"
HERE=$(cd "$(dirname "$0")" && pwd)
POLICIES="$HERE/policies"
EPHEMERA_NAMESPACE=${EPHEMERA_NAMESPACE:-ephemera-system}
EPHEMERA_SERVICE_ACCOUNT=${EPHEMERA_SERVICE_ACCOUNT:-ephemera-worker}
KUBERNETES_HOST=${KUBERNETES_HOST:-}
GITLAB_URL=${GITLAB_URL:-https://gitlab.com}
GITLAB_PROJECT_PATHS=${GITLAB_PROJECT_PATHS:-}
JWT_AUDIENCE=${JWT_AUDIENCE:-$VAULT_ADDR}
AWS_BUILD_CACHE_ROLE_ARN=${AWS_BUILD_CACHE_ROLE_ARN:-}

# The worker runs every activity, so its roles carry the three worker policies.
WORKER_POLICIES=ephemera-review-app,ephemera-runner,ephemera-reconciler

enable_auth() { # path type
  vault auth list -format=json | grep -q "\"$1/\"" || vault auth enable -path="$1" "$2"
}
enable_secrets() { # path type
  vault secrets list -format=json | grep -q "\"$1/\"" || vault secrets enable -path="$1" "$2"
}

enable_auth kubernetes kubernetes
enable_auth approle approle
enable_auth jwt jwt
enable_secrets secret kv-v2
enable_secrets aws aws

# One policy per concern; ci-pipeline is for CI jobs, never for Ephemera itself.
vault policy write ephemera-review-app "$POLICIES/review-app.hcl"
vault policy write ephemera-runner "$POLICIES/runner.hcl"
vault policy write ephemera-reconciler "$POLICIES/reconciler.hcl"
vault policy write ephemera-ci-pipeline "$POLICIES/ci-pipeline.hcl"

# In cluster: the worker logs in with its ServiceAccount token (ephemera.vault.auth.method=kubernetes,
# ephemera.vault.auth.kubernetes.role=ephemera-worker). Short tokens, renewed by Ephemera; a leaked one
# dies within the hour.
if [ -n "$KUBERNETES_HOST" ]; then
  vault write auth/kubernetes/config kubernetes_host="$KUBERNETES_HOST"
fi
vault write auth/kubernetes/role/ephemera-worker \
  bound_service_account_names="$EPHEMERA_SERVICE_ACCOUNT" \
  bound_service_account_namespaces="$EPHEMERA_NAMESPACE" \
  token_policies="$WORKER_POLICIES" \
  token_ttl=1h token_max_ttl=4h

# Outside a cluster (or where Kubernetes auth is not possible): AppRole. Secret ids expire and are
# bound to nothing here on purpose; add secret_id_bound_cidrs / token_bound_cidrs for your network.
vault write auth/approle/role/ephemera-worker \
  token_policies="$WORKER_POLICIES" \
  token_ttl=1h token_max_ttl=4h \
  secret_id_ttl=720h
if [ -n "${EPHEMERA_APPROLE_ROLE_ID:-}" ]; then
  vault write auth/approle/role/ephemera-worker/role-id role_id="$EPHEMERA_APPROLE_ROLE_ID"
fi
if [ -n "${EPHEMERA_APPROLE_SECRET_ID:-}" ]; then
  vault write auth/approle/role/ephemera-worker/custom-secret-id secret_id="$EPHEMERA_APPROLE_SECRET_ID"
fi

# The pipeline-side pattern: GitLab CI jobs log in with their ID token. Only the listed projects,
# and only on protected refs, get the registry push credential.
vault write auth/jwt/config oidc_discovery_url="$GITLAB_URL" bound_issuer="$GITLAB_URL"
if [ -n "$GITLAB_PROJECT_PATHS" ]; then
  projects=$(printf '%s' "$GITLAB_PROJECT_PATHS" | sed 's/[^,][^,]*/"&"/g')
  vault write auth/jwt/role/ephemera-ci-pipeline - <<JSON
{
  "role_type": "jwt",
  "user_claim": "user_login",
  "bound_audiences": ["$JWT_AUDIENCE"],
  "bound_claims_type": "glob",
  "bound_claims": {
    "project_path": [$projects],
    "ref_protected": "true"
  },
  "token_policies": ["ephemera-ci-pipeline"],
  "token_ttl": "15m",
  "token_explicit_max_ttl": "30m"
}
JSON
else
  echo "GITLAB_PROJECT_PATHS is empty: the CI JWT role ephemera-ci-pipeline was not written" >&2
fi

# Build-cache credentials: aws/creds/ephemera-build-cache (review-app.hcl) assumes this role.
if [ -n "$AWS_BUILD_CACHE_ROLE_ARN" ]; then
  vault write aws/roles/ephemera-build-cache \
    credential_type=assumed_role role_arns="$AWS_BUILD_CACHE_ROLE_ARN" default_sts_ttl=15m max_sts_ttl=1h
fi

echo "Vault is set up for Ephemera (policies: $WORKER_POLICIES, ephemera-ci-pipeline)."
echo "Store the credentials the default sources read: secret/ephemera/registry/push, secret/ephemera/registry/pull, secret/ephemera/git/source-read (see deploy/vault/README.md)."
