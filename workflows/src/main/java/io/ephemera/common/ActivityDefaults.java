package io.ephemera.common;

import io.temporal.activity.ActivityCancellationType;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;
import io.temporal.activity.ActivityOptions;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The part of every activity's options that workflow logic relies on, shared by the worker (which
 * adds timeouts and retries from configuration) and the workflow tests, so both run the same
 * semantics.
 */
public final class ActivityDefaults {
  private ActivityDefaults() {}

  /**
   * Cancellation waits until the activity has really stopped. With the SDK's default (TRY_CANCEL) a
   * superseded deploy's apply could still land after the newer one, or after teardown, putting a
   * stale image live or recreating what was just deleted.
   */
  public static ActivityOptions.Builder newBuilder() {
    return ActivityOptions.newBuilder()
        .setCancellationType(ActivityCancellationType.WAIT_CANCELLATION_COMPLETED);
  }

  /**
   * Options for every activity type of {@code interfaces}: {@code overrides} where given, else
   * {@code defaults}.
   *
   * <p>Why every type: workflows create stubs with per-call options that carry only a summary for
   * the Temporal UI ("Roll out abc1234"). The SDK uses such stub options instead of the worker's
   * defaults and merges only the per-type options on top, so each type needs its full options in
   * the per-type map.
   */
  public static Map<String, ActivityOptions> perType(
      ActivityOptions defaults, Map<String, ActivityOptions> overrides, Class<?>... interfaces) {
    Map<String, ActivityOptions> result = new HashMap<>();
    for (Class<?> type : interfaces) {
      for (String name : activityTypes(type)) {
        result.put(name, overrides.getOrDefault(name, defaults));
      }
    }
    overrides.forEach(result::putIfAbsent);
    return result;
  }

  /** The activity type names the SDK derives for an activity interface. */
  public static List<String> activityTypes(Class<?> activityInterface) {
    ActivityInterface annotation = activityInterface.getAnnotation(ActivityInterface.class);
    if (annotation == null) {
      throw new IllegalArgumentException(activityInterface + " is not an @ActivityInterface");
    }
    List<String> names = new ArrayList<>();
    for (Method m : activityInterface.getMethods()) {
      ActivityMethod method = m.getAnnotation(ActivityMethod.class);
      if (method != null && !method.name().isEmpty()) {
        names.add(method.name());
      } else {
        String n = m.getName();
        names.add(annotation.namePrefix() + Character.toUpperCase(n.charAt(0)) + n.substring(1));
      }
    }
    return names;
  }
}
