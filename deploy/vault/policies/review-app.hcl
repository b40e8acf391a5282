# ephemera-review-app: what the worker's review-app activities read from Vault, and nothing else.
# Paths assume the default mounts (`secret/` KV v2, `aws/`); rename them here and in
# ephemera.vault.* together. No wildcard capability, no sudo, no list of anything but the index.

# Registry credentials (push for the build, pull for the running app), one KV v2 entry per
# registry or per project: CredentialActivities.issue reads them and writes them straight into a
# Kubernetes Secret. Read only: Ephemera never writes a credential.
path "secret/data/ephemera/registry/*" {
  capabilities = ["read"]
}

# Build-cache cloud credentials from the AWS secrets engine (aws/creds/<role>): a short-lived
# IAM credential per build, revoked right after it.
path "aws/creds/ephemera-build-cache" {
  capabilities = ["read"]
}

# Revoking the leases above when their step is done and at teardown (PUT sys/leases/revoke with
# the lease id in the body). `update` is the capability of that endpoint; it is not sudo, and
# revoke-prefix / revoke-force (which are) are not granted.
path "sys/leases/revoke" {
  capabilities = ["update"]
}

# Ephemera's lease index (KV v2): an entry is written before a secret is used and removed after
# revocation, so the reconciler can find leases whose workflow died.
path "secret/data/ephemera/leases/*" {
  capabilities = ["create", "read", "update", "delete"]
}

path "secret/metadata/ephemera/leases/*" {
  capabilities = ["delete"]
}

# Its own token: renewed before expiry, looked up for its TTL.
path "auth/token/renew-self" {
  capabilities = ["update"]
}

path "auth/token/lookup-self" {
  capabilities = ["read"]
}
