package io.ephemera.worker.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Array;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.Name;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.context.annotation.ClassPathScanningCandidateComponentProvider;
import org.springframework.core.type.filter.AnnotationTypeFilter;

/**
 * The {@code ephemera.*} property names the application binds, derived by reflection from its
 * {@code @ConfigurationProperties} records rather than written down: each record component is a
 * kebab-case element, nested records recurse, a map takes any key (and the rest of the name when
 * its values are plain), a list takes an index or a comma-separated value. Names are compared the
 * way Spring compares them (the uniform form: lower case, no dashes), so an environment variable
 * such as {@code EPHEMERA_VAULT_AUTH_APPROLE_ROLEID} is checked like {@code
 * ephemera.vault.auth.approle.role-id}.
 *
 * <p>A few settings are read from the environment directly instead of through a record: {@link
 * #READ_DIRECTLY}, each checked to be spelled in the source of the class that reads it.
 */
final class PropertySchema {

  /**
   * Settings read with {@code Environment.getProperty}/{@code Binder} rather than a record, and the
   * source file that reads each (relative to the repository root).
   */
  static final Map<String, String> READ_DIRECTLY =
      Map.of(
          "ephemera.roles",
          "worker/src/main/java/io/ephemera/worker/config/Roles.java",
          "ephemera.temporal.target",
          "worker/src/main/java/io/ephemera/worker/config/EphemeraEnvironmentPostProcessor.java");

  private static final Path REPOSITORY = Path.of("..");

  /** Root prefix (uniform form) → the records bound there (ephemera.gitlab has two). */
  private final Map<String, List<Class<?>>> roots;

  private PropertySchema(Map<String, List<Class<?>>> roots) {
    this.roots = roots;
  }

  /** Every {@code @ConfigurationProperties} record under {@code io.ephemera}. */
  static PropertySchema ofTheApplication() {
    ClassPathScanningCandidateComponentProvider scanner =
        new ClassPathScanningCandidateComponentProvider(false);
    scanner.addIncludeFilter(new AnnotationTypeFilter(ConfigurationProperties.class));
    Map<String, List<Class<?>>> roots = new TreeMap<>();
    for (BeanDefinition candidate : scanner.findCandidateComponents("io.ephemera")) {
      Class<?> type;
      try {
        type = Class.forName(candidate.getBeanClassName());
      } catch (ClassNotFoundException e) {
        throw new AssertionError(e);
      }
      ConfigurationProperties annotation = type.getAnnotation(ConfigurationProperties.class);
      if (annotation == null || !type.isRecord()) {
        continue;
      }
      String prefix = annotation.prefix().isEmpty() ? annotation.value() : annotation.prefix();
      if (prefix.startsWith("ephemera.")) {
        roots
            .computeIfAbsent(uniform(ConfigurationPropertyName.of(prefix)), p -> new ArrayList<>())
            .add(type);
      }
    }
    return new PropertySchema(roots);
  }

  /** The records found, by prefix; for the test that the scan saw what it must. */
  Map<String, List<Class<?>>> roots() {
    return roots;
  }

  /**
   * Why {@code name} binds to nothing, or {@code null} when it binds to a record component (or is
   * one of {@link #READ_DIRECTLY}). Only names under {@code ephemera} are judged.
   *
   * @param fromEnvironment the name was read from an environment variable, where Spring also takes
   *     an underscore for a dash ({@code EPHEMERA_GITLAB_WEBHOOK_TOKEN} binds to {@code
   *     webhook-token}), so {@code webhook.token} may stand for {@code webhook-token}
   */
  String problem(ConfigurationPropertyName name, boolean fromEnvironment) {
    if (!name.getElement(0, ConfigurationPropertyName.Form.UNIFORM).equals("ephemera")) {
      return null;
    }
    String whole = uniform(name);
    for (String direct : READ_DIRECTLY.keySet()) {
      if (whole.equals(uniform(ConfigurationPropertyName.of(direct)))) {
        return null;
      }
    }
    // The longest prefix wins: ephemera.runners.kubernetes before ephemera.runners.
    String best = null;
    for (String prefix : roots.keySet()) {
      if ((whole.equals(prefix) || whole.startsWith(prefix + "."))
          && (best == null || prefix.length() > best.length())) {
        best = prefix;
      }
    }
    if (best == null) {
      return "no @ConfigurationProperties record is bound under any prefix of it";
    }
    int start = ConfigurationPropertyName.of(best).getNumberOfElements();
    List<String> whys = new ArrayList<>();
    for (Class<?> record : roots.get(best)) {
      String why = walk(name, start, record, fromEnvironment);
      if (why == null) {
        return null;
      }
      whys.add(why + " (record " + record.getSimpleName() + ")");
    }
    return String.join("; ", whys);
  }

  /** {@link #problem(ConfigurationPropertyName, boolean)} of a name from a file. */
  String problem(ConfigurationPropertyName name) {
    return problem(name, false);
  }

  /** Whether {@code type} at element {@code i} of {@code name} accepts the rest of the name. */
  private static String walk(
      ConfigurationPropertyName name, int i, Type type, boolean fromEnvironment) {
    Class<?> raw = raw(type);
    int n = name.getNumberOfElements();
    if (raw == Object.class) {
      return null;
    }
    if (i == n) {
      // One value can fill a plain property or a list (comma-separated), never a map or a record:
      // EPHEMERA_CODEC_KEYS=<key> binds to nothing, EPHEMERA_CODEC_KEYS_V1=<key> does.
      return raw.isRecord() || Map.class.isAssignableFrom(raw)
          ? "a single value cannot bind to "
              + (raw.isRecord() ? "the record " + raw.getSimpleName() : "a map")
              + ": set its entries"
          : null;
    }
    String element = name.getElement(i, ConfigurationPropertyName.Form.UNIFORM);
    if (raw.isRecord()) {
      if (name.isNumericIndex(i)) {
        return "[" + element + "] indexes " + raw.getSimpleName() + ", which is no list";
      }
      for (RecordComponent c : raw.getRecordComponents()) {
        String wanted = uniform(elementName(c));
        StringBuilder joined = new StringBuilder();
        for (int k = i; k < n && (k == i || fromEnvironment); k++) {
          joined.append(name.getElement(k, ConfigurationPropertyName.Form.UNIFORM));
          if (joined.toString().equals(wanted)) {
            String why = walk(name, k + 1, c.getGenericType(), fromEnvironment);
            if (why == null || !fromEnvironment) {
              return why;
            }
          }
          if (!wanted.startsWith(joined.toString())) {
            break;
          }
        }
      }
      List<String> known = new ArrayList<>();
      for (RecordComponent c : raw.getRecordComponents()) {
        known.add(elementName(c));
      }
      return "'"
          + name.getElement(i, ConfigurationPropertyName.Form.ORIGINAL)
          + "' is none of "
          + known;
    }
    if (Map.class.isAssignableFrom(raw)) {
      Type value = typeArgument(type, 1);
      // A map of plain values takes the rest of the name as its key (a.b → key "a.b").
      return isPlain(raw(value)) ? null : walk(name, i + 1, value, fromEnvironment);
    }
    if (Collection.class.isAssignableFrom(raw) || raw.isArray()) {
      if (!name.isNumericIndex(i)) {
        return "'" + element + "' under a list: only an index [n] or a value fits";
      }
      Type item = raw.isArray() ? componentType(type) : typeArgument(type, 0);
      return walk(name, i + 1, item, fromEnvironment);
    }
    return "'"
        + name.getElement(i, ConfigurationPropertyName.Form.ORIGINAL)
        + "' goes below a plain value ("
        + raw.getSimpleName()
        + ")";
  }

  private static boolean isPlain(Class<?> type) {
    return !type.isRecord()
        && !Map.class.isAssignableFrom(type)
        && !Collection.class.isAssignableFrom(type)
        && !type.isArray();
  }

  private static String elementName(RecordComponent c) {
    Name renamed = c.getAnnotation(Name.class);
    if (renamed == null) {
      // Constructor binding reads the annotation from the constructor parameter.
      renamed = parameterName(c);
    }
    return renamed != null ? renamed.value() : kebab(c.getName());
  }

  private static Name parameterName(RecordComponent c) {
    Class<?> record = c.getDeclaringRecord();
    Class<?>[] types =
        Stream.of(record.getRecordComponents()).map(RecordComponent::getType).toArray(Class[]::new);
    try {
      var parameters = record.getDeclaredConstructor(types).getParameters();
      RecordComponent[] components = record.getRecordComponents();
      for (int k = 0; k < components.length; k++) {
        if (components[k].getName().equals(c.getName())) {
          return parameters[k].getAnnotation(Name.class);
        }
      }
    } catch (NoSuchMethodException e) {
      return null;
    }
    return null;
  }

  static String kebab(String camel) {
    StringBuilder b = new StringBuilder();
    for (char ch : camel.toCharArray()) {
      if (Character.isUpperCase(ch)) {
        b.append('-').append(Character.toLowerCase(ch));
      } else {
        b.append(ch);
      }
    }
    return b.toString();
  }

  private static String uniform(String element) {
    return element.replace("-", "").toLowerCase(Locale.ROOT);
  }

  private static String uniform(ConfigurationPropertyName name) {
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < name.getNumberOfElements(); i++) {
      parts.add(name.getElement(i, ConfigurationPropertyName.Form.UNIFORM));
    }
    return String.join(".", parts);
  }

  private static Class<?> raw(Type type) {
    if (type instanceof Class<?> c) {
      return c;
    }
    if (type instanceof ParameterizedType p) {
      return (Class<?>) p.getRawType();
    }
    if (type instanceof GenericArrayType g) {
      return Array.newInstance(raw(g.getGenericComponentType()), 0).getClass();
    }
    // Wildcards and type variables: nothing more is known, so anything goes below.
    return Object.class;
  }

  private static Type typeArgument(Type type, int index) {
    return type instanceof ParameterizedType p ? p.getActualTypeArguments()[index] : Object.class;
  }

  private static Type componentType(Type type) {
    return type instanceof GenericArrayType g
        ? g.getGenericComponentType()
        : raw(type).getComponentType();
  }

  /** Each {@link #READ_DIRECTLY} name, with whether its reader's source spells it. */
  static Map<String, Boolean> directReadsSpelledInTheirSource() {
    Map<String, Boolean> out = new LinkedHashMap<>();
    READ_DIRECTLY.forEach(
        (name, file) -> {
          try {
            out.put(name, Files.readString(REPOSITORY.resolve(file)).contains("\"" + name + "\""));
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
    return out;
  }
}
