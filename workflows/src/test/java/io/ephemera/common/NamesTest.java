package io.ephemera.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class NamesTest {

  static Stream<String> awkwardInputs() {
    return Stream.of(
        "",
        " ",
        "-",
        "---",
        "!!!@@@###$$$%%%",
        "...",
        "___",
        "my_app",
        "my.app.example",
        "My App",
        "group/sub-group/project",
        "-leading-and-trailing-",
        "UPPER/CASE",
        "ümlaut-gruppe/ßtraße",
        "日本語のプロジェクト",
        "emoji-🚀-rocket",
        "İstanbul", // lower-cases to two chars in Locale.ROOT
        "a",
        "0",
        "a".repeat(63),
        "a".repeat(64),
        "a-".repeat(40),
        "x".repeat(62) + "_y",
        "group/" + "very-long-project-name/".repeat(434), // about 10,000 characters
        "a/".repeat(5_000),
        "\t\n\r",
        "\u0000control\u0007chars");
  }

  @ParameterizedTest
  @MethodSource("awkwardInputs")
  void dns1123LabelAlwaysGivesAValidLabel(String input) {
    for (int max : new int[] {10, 20, 40, 63}) {
      String label = Names.dns1123Label(input, max);
      assertThat(Names.isDns1123Label(label)).as("%s (max %d) -> %s", input, max, label).isTrue();
      assertThat(label.length()).isLessThanOrEqualTo(max);
    }
  }

  @Test
  void dns1123LabelOfNullIsValid() {
    assertThat(Names.isDns1123Label(Names.dns1123Label(null, 63))).isTrue();
  }

  @ParameterizedTest
  @MethodSource("awkwardInputs")
  void reviewNamespaceIsAValidLabelThatKeepsTheIds(String projectPath) {
    for (long[] ids : new long[][] {{42, 7}, {1, 1}, {Long.MAX_VALUE, Long.MAX_VALUE}}) {
      String ns = Names.reviewNamespace(ids[0], projectPath, ids[1]);
      assertThat(Names.isDns1123Label(ns)).as("%s -> %s", projectPath, ns).isTrue();
      assertThat(ns.length()).isLessThanOrEqualTo(Names.MAX_LABEL);
      assertThat(ns).startsWith("review-" + ids[0] + "-mr-" + ids[1]);
    }
  }

  @Test
  void reviewNamespaceOfAShortPathIsReadable() {
    assertThat(Names.reviewNamespace(42, "Group/My_Shop", 7))
        .isEqualTo("review-42-mr-7-group-my-shop");
    assertThat(Names.reviewNamespace(42, "", 7)).isEqualTo("review-42-mr-7");
    assertThat(Names.reviewNamespace(42, null, 7)).isEqualTo("review-42-mr-7");
    assertThat(Names.reviewNamespace(42, "!!!", 7)).isEqualTo("review-42-mr-7");
  }

  @Test
  void reviewNamespaceKeepsTheIdsWholeWhenThePathIsCut() {
    String path = "group/" + "x".repeat(200);
    String ns = Names.reviewNamespace(123456, path, 98765);
    assertThat(ns).startsWith("review-123456-mr-98765-group-xx").hasSize(Names.MAX_LABEL);
    assertThat(ns).matches(".*-[0-9a-f]{8}");
  }

  @Test
  void reviewNamespacesOfDifferentMergeRequestsDiffer() {
    String path = "group/" + "x".repeat(200);
    assertThat(Names.reviewNamespace(1, path, 2)).isNotEqualTo(Names.reviewNamespace(1, path, 3));
    assertThat(Names.reviewNamespace(1, path, 2)).isNotEqualTo(Names.reviewNamespace(2, path, 2));
    // Ids cannot bleed into each other: 1/mr-23 and 12/mr-3.
    assertThat(Names.reviewNamespace(1, "p", 23)).isNotEqualTo(Names.reviewNamespace(12, "p", 3));
  }

  @Test
  void aHashSuffixTellsLongInputsWithACommonPrefixApart() {
    String prefix = "group/" + "shared-prefix-".repeat(10);
    String a = Names.dns1123Label(prefix + "alpha", 40);
    String b = Names.dns1123Label(prefix + "beta", 40);
    assertThat(a).isNotEqualTo(b).hasSize(40);
    assertThat(a.substring(0, 31)).isEqualTo(b.substring(0, 31));
    assertThat(a).matches(".*-[0-9a-f]{8}");

    String nsA = Names.reviewNamespace(42, prefix + "alpha", 7);
    String nsB = Names.reviewNamespace(42, prefix + "beta", 7);
    assertThat(nsA).isNotEqualTo(nsB);
    assertThat(nsA).hasSize(Names.MAX_LABEL);
  }

  @Test
  void inputsThatDifferOnlyInPunctuationAreToldApartOnceCut() {
    // Both slug to the same long string; the hash is of the raw input.
    String a = Names.dns1123Label("a_".repeat(50), 20);
    String b = Names.dns1123Label("a.".repeat(50), 20);
    assertThat(a).isNotEqualTo(b);
  }

  @Test
  void shortNamesAreNotHashed() {
    assertThat(Names.dns1123Label("My_App", 63)).isEqualTo("my-app");
    assertThat(Names.dns1123Label("a".repeat(63), 63)).isEqualTo("a".repeat(63));
    assertThat(Names.dns1123Label("", 63)).isEqualTo("x");
  }

  @Test
  void dns1123LabelIsStable() {
    String input = "group/" + "y".repeat(100);
    assertThat(Names.dns1123Label(input, 30)).isEqualTo(Names.dns1123Label(input, 30));
  }

  @Test
  void maxOutsideTheRangeIsRefused() {
    assertThatThrownBy(() -> Names.dns1123Label("a", 9))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Names.dns1123Label("a", 64))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void isDns1123LabelRejectsWhatKubernetesRejects() {
    assertThat(Names.isDns1123Label("ok-name-1")).isTrue();
    assertThat(Names.isDns1123Label(null)).isFalse();
    assertThat(Names.isDns1123Label("")).isFalse();
    assertThat(Names.isDns1123Label("-a")).isFalse();
    assertThat(Names.isDns1123Label("a-")).isFalse();
    assertThat(Names.isDns1123Label("A")).isFalse();
    assertThat(Names.isDns1123Label("a.b")).isFalse();
    assertThat(Names.isDns1123Label("a_b")).isFalse();
    assertThat(Names.isDns1123Label("a".repeat(64))).isFalse();
  }

  @Test
  void labelValueRoundTripsAWorkflowId() {
    for (String id :
        new String[] {
          WorkflowIds.reviewApp(42, 7), WorkflowIds.reviewApp(Long.MAX_VALUE, Long.MAX_VALUE)
        }) {
      String label = Names.labelValue(id);
      assertThat(label).doesNotContain("/").hasSizeLessThanOrEqualTo(Names.MAX_LABEL);
      assertThat(label).matches("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");
      assertThat(Names.workflowIdFromLabel(label)).isEqualTo(id);
    }
    assertThat(Names.labelValue("review-app/42/mr-7")).isEqualTo("review-app.42.mr-7");
  }

  @Test
  void aWorkflowIdTooLongForALabelIsRefused() {
    assertThatThrownBy(() -> Names.labelValue("review-app/" + "9".repeat(60)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void slugLowerCasesAndCollapsesRuns() {
    assertThat(Names.slug("Group//My__Shop..v2")).isEqualTo("group-my-shop-v2");
    assertThat(Names.slug("--x--")).isEqualTo("x");
  }

  @Test
  void gitLabProjectPathsAreWhatGitLabAllows() {
    assertThat(Names.isGitLabProjectPath("gitlab-org/gitlab")).isTrue();
    assertThat(Names.isGitLabProjectPath("Group_1/sub.group/My-Project.v2")).isTrue();
    assertThat(Names.isGitLabProjectPath("_x/" + "a".repeat(255))).isTrue();

    assertThat(Names.isGitLabProjectPath(null)).isFalse();
    assertThat(Names.isGitLabProjectPath("")).isFalse();
    assertThat(Names.isGitLabProjectPath("group/" + "a".repeat(256))).isFalse();
    assertThat(Names.isGitLabProjectPath("группа/проект")).isFalse();
    assertThat(Names.isGitLabProjectPath("group/../etc")).isFalse();
    assertThat(Names.isGitLabProjectPath("group//project")).isFalse();
    assertThat(Names.isGitLabProjectPath("/group/project")).isFalse();
    assertThat(Names.isGitLabProjectPath("group/project/")).isFalse();
    assertThat(Names.isGitLabProjectPath("-group/project")).isFalse();
    assertThat(Names.isGitLabProjectPath("group/.hidden")).isFalse();
    assertThat(Names.isGitLabProjectPath("group/project.git")).isFalse();
    assertThat(Names.isGitLabProjectPath("group/pro ject")).isFalse();
    assertThat(Names.isGitLabProjectPath("group/pro\u0000ject")).isFalse();
  }
}
