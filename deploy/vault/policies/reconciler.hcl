# ephemera-reconciler: the reaper's view of Vault. It pages through Ephemera's lease index, revokes
# leases whose workflow is closed or unknown, and removes their entries. It reads no secret.
# VaultSetupTest runs the lease index and the revocation against these paths.

# The index's keys, one page at a time.
path "secret/metadata/ephemera/leases" {
  capabilities = ["list"]
}

# Each entry: lease id, kind, path, owning workflow and times (never a secret value).
path "secret/data/ephemera/leases/*" {
  capabilities = ["read"]
}

# An entry removed with all its versions after its lease is revoked.
path "secret/metadata/ephemera/leases/*" {
  capabilities = ["delete"]
}

path "sys/leases/revoke" {
  capabilities = ["update"]
}

path "auth/token/renew-self" {
  capabilities = ["update"]
}

path "auth/token/lookup-self" {
  capabilities = ["read"]
}
