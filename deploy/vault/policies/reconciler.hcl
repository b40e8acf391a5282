# ephemera-reconciler: the reaper's view of Vault. It pages through Ephemera's lease index, revokes
# leases whose workflow is closed or unknown, and removes their entries. It reads no secret.

path "secret/metadata/ephemera/leases" {
  capabilities = ["list"]
}

path "secret/metadata/ephemera/leases/*" {
  capabilities = ["list", "delete"]
}

path "secret/data/ephemera/leases/*" {
  capabilities = ["read", "delete"]
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
