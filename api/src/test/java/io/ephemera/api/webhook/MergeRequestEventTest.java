package io.ephemera.api.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ephemera.api.error.ApiException;
import io.ephemera.apitest.Fixtures;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.ObjectNode;

class MergeRequestEventTest {

  @Test
  void readsGitLabsDocumentedOpenEvent() {
    MergeRequestEvent e = MergeRequestEvent.parse(Fixtures.tree("merge-request-open.json"));

    assertThat(e.projectId()).isEqualTo(4242);
    assertThat(e.projectPath()).isEqualTo("gitlabhq/gitlab-test");
    assertThat(e.iid()).isEqualTo(7);
    assertThat(e.action()).isEqualTo("open");
    assertThat(e.title()).isEqualTo("MS-Viewport");
    assertThat(e.sha()).isEqualTo("da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
    assertThat(e.oldrev()).isNull();
    assertThat(e.fromFork()).isFalse();
  }

  @Test
  void anUpdateWithNewCommitsCarriesOldrev() {
    MergeRequestEvent e =
        MergeRequestEvent.parse(Fixtures.tree("merge-request-update-new-commit.json"));

    assertThat(e.oldrev()).isEqualTo("da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
    assertThat(e.sha()).isEqualTo("b83d6e391c22777fca1ed3012fce84f633d7fed0");
  }

  @Test
  void aCloseNeedsOnlyTheMergeRequestsIdentity() {
    ObjectNode close = Fixtures.tree("merge-request-close.json");
    ObjectNode attributes = (ObjectNode) close.get("object_attributes");
    attributes.remove("last_commit");
    attributes.remove("source_project_id");
    ((ObjectNode) close.get("project")).remove("path_with_namespace");

    MergeRequestEvent e = MergeRequestEvent.parse(close);

    assertThat(e.action()).isEqualTo("close");
    assertThatThrownBy(e::requireDeployable)
        .isInstanceOf(ApiException.class)
        .hasMessageContaining("project.path_with_namespace");
  }

  @Test
  void longTitlesAreShortenedOnACodePointBoundary() {
    String emoji = "🎉".repeat(300);

    String shortened = MergeRequestEvent.shorten(emoji, MergeRequestEvent.MAX_TITLE);

    assertThat(shortened.codePointCount(0, shortened.length()))
        .isEqualTo(MergeRequestEvent.MAX_TITLE);
    assertThat(shortened).endsWith("🎉…");
    assertThat(MergeRequestEvent.shorten("short", 255)).isEqualTo("short");
  }
}
