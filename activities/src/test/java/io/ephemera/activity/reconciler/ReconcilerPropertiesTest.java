package io.ephemera.activity.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReconcilerPropertiesTest {
  private static ReconcilerProperties with(int pageSize, Duration grace, List<Long> projects) {
    return new ReconcilerProperties(
        true,
        Duration.ofMinutes(5),
        Duration.ofSeconds(30),
        grace,
        false,
        pageSize,
        projects,
        100,
        200,
        Duration.ofMinutes(2),
        Duration.ofSeconds(10));
  }

  @Test
  void sensibleValuesBind() {
    assertThat(with(500, Duration.ofMinutes(10), null).projects()).isEmpty();
    assertThat(with(1, Duration.ofSeconds(1), List.of(42L)).projects()).containsExactly(42L);
  }

  @Test
  void badValuesAreRefusedNamingTheProperty() {
    assertThatThrownBy(() -> with(0, Duration.ofMinutes(10), null))
        .hasMessageContaining("ephemera.reconciler.page-size");
    assertThatThrownBy(() -> with(5000, Duration.ofMinutes(10), null))
        .hasMessageContaining("ephemera.reconciler.page-size");
    assertThatThrownBy(() -> with(500, Duration.ZERO, null))
        .hasMessageContaining("ephemera.reconciler.grace");
    assertThatThrownBy(() -> with(500, Duration.ofMinutes(10), List.of(-1L)))
        .hasMessageContaining("ephemera.reconciler.projects");
  }
}
