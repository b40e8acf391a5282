package io.ephemera.api.error;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ProblemTypeTest {

  @Test
  void everyProblemTypeHasItsOwnUriUnderTheProblemsBase() {
    assertThat(Arrays.stream(ProblemType.values()).map(ProblemType::uri).distinct())
        .hasSize(ProblemType.values().length)
        .allSatisfy(uri -> assertThat(uri.toString()).startsWith(ProblemType.BASE));
  }

  @Test
  void publishedUrisNeverChange() {
    assertThat(ProblemType.UNAUTHORIZED.uri())
        .hasToString("https://ephemera.io/problems/unauthorized");
    assertThat(ProblemType.PAYLOAD_TOO_LARGE.uri())
        .hasToString("https://ephemera.io/problems/payload-too-large");
    assertThat(ProblemType.TEMPORAL_UNAVAILABLE.uri())
        .hasToString("https://ephemera.io/problems/temporal-unavailable");
  }

  @Test
  void temporalUnavailabilityIsFoundThroughWrappers() {
    Exception wrapped =
        new RuntimeException(
            "outer",
            new IllegalStateException(
                new io.grpc.StatusRuntimeException(io.grpc.Status.DEADLINE_EXCEEDED)));

    assertThat(TemporalErrors.isUnavailable(wrapped)).isTrue();
    assertThat(TemporalErrors.isUnavailable(new RuntimeException("no grpc"))).isFalse();
    assertThat(
            TemporalErrors.isUnavailable(
                new io.grpc.StatusRuntimeException(io.grpc.Status.PERMISSION_DENIED)))
        .isFalse();
  }
}
