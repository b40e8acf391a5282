package io.ephemera.api.environments;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BearerTokenInterceptorTest {

  @Test
  void theBearerSchemeIsCaseInsensitiveAndTheTokenIsWhatFollows() {
    assertThat(BearerTokenInterceptor.bearerToken("Bearer abc")).isEqualTo("abc");
    assertThat(BearerTokenInterceptor.bearerToken("bearer abc")).isEqualTo("abc");
    assertThat(BearerTokenInterceptor.bearerToken("BEARER  abc ")).isEqualTo("abc");
  }

  @Test
  void otherSchemesAndEmptyTokensAreNoBearerToken() {
    assertThat(BearerTokenInterceptor.bearerToken(null)).isNull();
    assertThat(BearerTokenInterceptor.bearerToken("Bearer")).isNull();
    assertThat(BearerTokenInterceptor.bearerToken("Bearer   ")).isNull();
    assertThat(BearerTokenInterceptor.bearerToken("Basic YTpi")).isNull();
    assertThat(BearerTokenInterceptor.bearerToken("Bearerabc")).isNull();
  }
}
