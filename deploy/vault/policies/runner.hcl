# ephemera-runner: what the worker's runner activities read from Vault, which today is nothing but
# its own token. A single-use runner's glrt- token comes from GitLab and lives in a Kubernetes
# Secret (KubernetesSecretTokenStore) or SSM (EC2 runners) for the runner's life; EC2 and SSM are
# reached with the worker's cloud identity (IRSA), not Vault. The job's own secrets are the
# pipeline's business (ci-pipeline.hcl). Kept as its own policy so a runner-only worker pool can
# be given exactly this, and so a future Vault-backed token store has one place to be granted.

path "auth/token/renew-self" {
  capabilities = ["update"]
}

path "auth/token/lookup-self" {
  capabilities = ["read"]
}
