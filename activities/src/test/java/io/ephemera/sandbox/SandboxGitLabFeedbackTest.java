package io.ephemera.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.ephemera.activity.gitlab.CommitStatusRequest;
import io.ephemera.activity.gitlab.DeploymentRequest;
import io.ephemera.activity.gitlab.EnvironmentRequest;
import io.ephemera.activity.gitlab.GitLabClient;
import io.ephemera.activity.gitlab.GitLabFeedbackActivitiesImpl;
import io.ephemera.activity.gitlab.GitLabProperties;
import io.ephemera.activity.gitlab.NoteRequest;
import io.ephemera.sandbox.SandboxGitLab.EnvironmentEntry;
import io.ephemera.sandbox.SandboxGitLab.FeedbackInventory;
import io.ephemera.sandbox.SandboxGitLab.StatusEntry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The real feedback adapter talking HTTP to the sandbox GitLab, as in the local profile: what a
 * review app's life leaves in GitLab.
 */
class SandboxGitLabFeedbackTest {
  static final long PROJECT = 42;
  static final long MR = 7;
  static final String ENV = "review/mr-7";
  static final String URL = "https://mr-7.review.example.com";

  SandboxGitLab sandbox;
  GitLabFeedbackActivitiesImpl feedback;
  Long noteId;

  @BeforeEach
  void setUp() {
    sandbox = SandboxGitLab.start();
    feedback =
        new GitLabFeedbackActivitiesImpl(
            new GitLabClient(GitLabProperties.of(sandbox.url(), "sandbox-api-token")));
  }

  @AfterEach
  void tearDown() {
    sandbox.close();
  }

  /** What a deploy of {@code sha} tells GitLab, in the order a review app workflow would. */
  void deploy(String sha) {
    feedback.setCommitStatus(
        new CommitStatusRequest(PROJECT, sha, "feature", "pending", URL, "Deploying"));
    feedback.upsertEnvironment(new EnvironmentRequest(PROJECT, ENV, URL));
    long deployment =
        feedback.recordDeployment(
            new DeploymentRequest(PROJECT, ENV, sha, "feature", "running", null));
    feedback.recordDeployment(
        new DeploymentRequest(PROJECT, ENV, sha, "feature", "success", deployment));
    noteId =
        feedback.upsertNote(
            new NoteRequest(PROJECT, MR, "Review app: " + URL + " at `" + sha + "`", noteId));
    feedback.setCommitStatus(
        new CommitStatusRequest(PROJECT, sha, "feature", "success", URL, "Review app ready"));
  }

  @Test
  void openingAMergeRequestLeavesOneEnvironmentOneNoteAndOneSuccessStatus() {
    deploy("aaaaaaa1");

    FeedbackInventory inventory = sandbox.feedbackInventory();
    assertThat(inventory.environments())
        .containsExactly(new EnvironmentEntry(1, PROJECT, MR, ENV, URL, "available"));
    assertThat(inventory.deployments())
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.mrIid()).isEqualTo(MR);
              assertThat(d.sha()).isEqualTo("aaaaaaa1");
              assertThat(d.url()).isEqualTo(URL);
              assertThat(d.state()).isEqualTo("success");
            });
    assertThat(inventory.notes())
        .singleElement()
        .satisfies(
            n -> {
              assertThat(n.mrIid()).isEqualTo(MR);
              assertThat(n.body()).contains(URL).contains(GitLabFeedbackActivitiesImpl.NOTE_MARKER);
            });
    assertThat(inventory.statuses())
        .extracting(StatusEntry::sha, StatusEntry::name, StatusEntry::url, StatusEntry::state)
        .containsExactly(tuple("aaaaaaa1", "ephemera/review-app", URL, "success"));
  }

  @Test
  void twoMorePushesKeepOneNoteAndRecordThreeDeployments() {
    deploy("aaaaaaa1");
    deploy("bbbbbbb2");
    // A workflow that lost the note id (say, reset) still edits the same note.
    noteId = null;
    deploy("ccccccc3");

    FeedbackInventory inventory = sandbox.feedbackInventory();
    assertThat(inventory.environments()).hasSize(1);
    assertThat(inventory.notes())
        .singleElement()
        .satisfies(n -> assertThat(n.body()).contains("ccccccc3"));
    assertThat(inventory.deployments())
        .extracting(SandboxGitLab.DeploymentEntry::sha)
        .containsExactly("aaaaaaa1", "bbbbbbb2", "ccccccc3");
    assertThat(inventory.statuses()).allSatisfy(s -> assertThat(s.state()).isEqualTo("success"));
  }

  @Test
  void closingStopsTheEnvironmentAndStoppingAgainSucceeds() {
    deploy("aaaaaaa1");

    feedback.stopEnvironment(new EnvironmentRequest(PROJECT, ENV, null));
    feedback.stopEnvironment(new EnvironmentRequest(PROJECT, ENV, null));
    feedback.upsertNote(new NoteRequest(PROJECT, MR, "stopped: merged", noteId));

    FeedbackInventory inventory = sandbox.feedbackInventory();
    assertThat(inventory.environments())
        .extracting(EnvironmentEntry::state)
        .containsExactly("stopped");
    assertThat(inventory.notes())
        .singleElement()
        .satisfies(n -> assertThat(n.body()).startsWith("stopped: merged"));
  }

  @Test
  void stoppingAnEnvironmentThatNeverExistedSucceeds() {
    feedback.stopEnvironment(new EnvironmentRequest(PROJECT, "review/mr-99", null));

    assertThat(sandbox.feedbackInventory().environments()).isEmpty();
  }

  @Test
  void aRedeployAfterStopMakesTheEnvironmentAvailableAgain() {
    deploy("aaaaaaa1");
    feedback.stopEnvironment(new EnvironmentRequest(PROJECT, ENV, null));

    deploy("bbbbbbb2");

    assertThat(sandbox.feedbackInventory().environments())
        .extracting(EnvironmentEntry::state)
        .containsExactly("available");
  }

  @Test
  void repeatingAStateOrADeploymentStatusIsSuccessAsOnGitLab() {
    CommitStatusRequest running =
        new CommitStatusRequest(PROJECT, "aaaaaaa1", "feature", "running", URL, null);
    feedback.setCommitStatus(running);
    feedback.setCommitStatus(running);
    feedback.upsertEnvironment(new EnvironmentRequest(PROJECT, ENV, URL));
    long id =
        feedback.recordDeployment(
            new DeploymentRequest(PROJECT, ENV, "aaaaaaa1", "feature", "running", null));
    DeploymentRequest done =
        new DeploymentRequest(PROJECT, ENV, "aaaaaaa1", "feature", "success", id);
    feedback.recordDeployment(done);
    feedback.recordDeployment(done);

    FeedbackInventory inventory = sandbox.feedbackInventory();
    assertThat(inventory.statuses()).extracting(StatusEntry::state).containsExactly("running");
    assertThat(inventory.deployments())
        .extracting(SandboxGitLab.DeploymentEntry::state)
        .containsExactly("success");
  }
}
