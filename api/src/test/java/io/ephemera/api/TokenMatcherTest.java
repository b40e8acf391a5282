package io.ephemera.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class TokenMatcherTest {

  @Test
  void anyConfiguredTokenMatchesAndNothingElseDoes() {
    TokenMatcher tokens = TokenMatcher.of(List.of("old-token", " new-token "));

    assertThat(tokens.matches("old-token")).isTrue();
    assertThat(tokens.matches("new-token")).isTrue();
    assertThat(tokens.matches("new-token ")).isFalse();
    assertThat(tokens.matches("old-toke")).isFalse();
    assertThat(tokens.matches("old-tokenX")).isFalse();
    assertThat(tokens.matches("")).isFalse();
    assertThat(tokens.matches(null)).isFalse();
  }

  @Test
  void blankConfiguredTokensNeverLetAnEmptyHeaderIn() {
    TokenMatcher tokens = TokenMatcher.of(Arrays.asList("", " ", null));

    assertThat(tokens.isEmpty()).isTrue();
    assertThat(tokens.matches("")).isFalse();
    assertThat(tokens.matches(" ")).isFalse();
  }

  @Test
  void noTokensMatchNothing() {
    assertThat(TokenMatcher.of(null).matches("anything")).isFalse();
    assertThat(TokenMatcher.of(List.of()).isEmpty()).isTrue();
  }
}
