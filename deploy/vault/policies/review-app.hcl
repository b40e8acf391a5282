# ephemera-review-app: what the worker's review-app activities ask of Vault, and nothing else.
# The paths are those of the Helm chart's default sources (vault.sources in values.yaml, i.e.
# ephemera.vault.build / deploy) on the default mounts (`secret/` KV v2, `aws/`); change a path here
# and there together. VaultSetupTest runs the credential activities against these sources and fails
# on any request this policy does not grant, and on any grant no request uses.

# Registry credentials (build.registry-push, deploy.registry-pull), KV v2 entries with keys
# username and password: VaultCredentialActivities.issue reads them and writes them straight into a
# Kubernetes Secret. Read only: Ephemera never writes a credential.
path "secret/data/ephemera/registry/*" {
  capabilities = ["read"]
}

# Git credentials for Kaniko's clone (build.source-read), KV v2.
path "secret/data/ephemera/git/*" {
  capabilities = ["read"]
}

# Build-cache cloud credentials from the AWS secrets engine (build.build-cache, the chart's
# commented example): a short-lived IAM credential per build, revoked right after it. `update`
# because Ephemera asks for the source's `ttl`, which is a write; without a ttl it is a read and
# needs `read` instead.
path "aws/creds/ephemera-build-cache" {
  capabilities = ["update"]
}

# Revoking the leases above when their step is done and at teardown (PUT sys/leases/revoke with
# the lease id in the body). `update` is the capability of that endpoint; it is not sudo, and
# revoke-prefix / revoke-force (which are) are not granted.
path "sys/leases/revoke" {
  capabilities = ["update"]
}

# Ephemera's lease index (KV v2, ephemera.vault.lease-index): an entry is written (created) before a
# leased secret is used, and removed with all its versions after revocation.
path "secret/data/ephemera/leases/*" {
  capabilities = ["create"]
}

path "secret/metadata/ephemera/leases/*" {
  capabilities = ["delete"]
}

# Its own token: renewed before expiry; looked up at login when the worker logs in with a token.
path "auth/token/renew-self" {
  capabilities = ["update"]
}

path "auth/token/lookup-self" {
  capabilities = ["read"]
}
