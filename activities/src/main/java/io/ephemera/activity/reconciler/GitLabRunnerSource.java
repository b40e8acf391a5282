package io.ephemera.activity.reconciler;

import io.ephemera.activity.gitlab.GitLabListings;
import io.ephemera.common.WorkflowIds;
import java.util.ArrayList;
import java.util.List;

/**
 * GitLab runners whose description names an Ephemera runner workflow ({@code ephemera
 * runner/<project>/job-<id>}), from {@code GET /runners?type=project_type} page by page. Runners
 * Ephemera did not register are not listed as managed.
 */
public final class GitLabRunnerSource implements ManagedSource {
  private final GitLabListings gitlab;

  public GitLabRunnerSource(GitLabListings gitlab) {
    this.gitlab = gitlab;
  }

  @Override
  public String kind() {
    return ResourceKinds.GITLAB_RUNNER;
  }

  @Override
  public Page page(String cursor, int limit) {
    int page = cursor == null ? 1 : Integer.parseInt(cursor);
    GitLabListings.Page<GitLabListings.Runner> runners =
        gitlab.projectRunners(page, Math.min(limit, 100));
    List<Managed> items = new ArrayList<>();
    for (GitLabListings.Runner r : runners.items()) {
      WorkflowIds.runnerWorkflowFromDescription(r.description())
          .ifPresent(
              owner ->
                  items.add(
                      new Managed(
                          Long.toString(r.id()),
                          owner,
                          r.createdAt(),
                          Ownership.projectOf(owner),
                          null)));
    }
    return new Page(items, runners.nextPage() > 0 ? Integer.toString(runners.nextPage()) : null);
  }
}
