package io.ephemera.worker.config;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.env.Environment;

/** The roles this process plays, from {@code ephemera.roles}. */
public final class Roles {
  public static final String API = "api";
  public static final String WORKER = "worker";
  private static final Set<String> KNOWN = Set.of(API, WORKER);

  private Roles() {}

  public static Set<String> from(Environment env) {
    List<String> roles =
        Binder.get(env)
            .bind("ephemera.roles", Bindable.listOf(String.class))
            .orElse(List.of(API, WORKER));
    Set<String> normalised =
        roles.stream()
            .map(r -> r.trim().toLowerCase(Locale.ROOT))
            .filter(r -> !r.isEmpty())
            .collect(Collectors.toUnmodifiableSet());
    for (String r : normalised) {
      if (!KNOWN.contains(r)) {
        throw new IllegalStateException(
            "ephemera.roles contains unknown role '" + r + "'; known roles are " + KNOWN);
      }
    }
    if (normalised.isEmpty()) {
      throw new IllegalStateException("ephemera.roles is empty; use api, worker or both");
    }
    return normalised;
  }
}
