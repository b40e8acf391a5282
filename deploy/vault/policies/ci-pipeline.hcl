# ephemera-ci-pipeline: the pipeline-side pattern. A GitLab CI job on a protected ref of a served
# project logs in with its ID token (auth/jwt, role ephemera-ci-pipeline, bound to project_path and
# ref_protected) and reads the registry push credential, to build and push the image itself;
# Ephemera then only deploys it. Read only, one path.

path "secret/data/ephemera/registry/push" {
  capabilities = ["read"]
}
