package io.ephemera.activity.routing;

import static software.amazon.awssdk.enhanced.dynamodb.mapper.StaticAttributeTags.primaryPartitionKey;
import static software.amazon.awssdk.enhanced.dynamodb.mapper.StaticAttributeTags.primarySortKey;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import software.amazon.awssdk.enhanced.dynamodb.TableSchema;
import software.amazon.awssdk.enhanced.dynamodb.mapper.StaticTableSchema;

/**
 * One item of the DynamoDB routing table (schema in activities/README.md). A mutable bean because
 * the enhanced client fills it attribute by attribute; the schema is declared explicitly rather
 * than by reflection, so it is readable here and needs no annotations on the class.
 */
final class RouteItem {
  static final String JOB_PREFIX = "job#";
  static final String ANY_JOB = JOB_PREFIX + "*";
  static final String TAGS_PREFIX = "tags#";

  static final TableSchema<RouteItem> SCHEMA =
      StaticTableSchema.builder(RouteItem.class)
          .newItemSupplier(RouteItem::new)
          .addAttribute(
              String.class,
              a ->
                  a.name("pk")
                      .getter(RouteItem::pk)
                      .setter(RouteItem::pk)
                      .tags(primaryPartitionKey()))
          .addAttribute(
              String.class,
              a -> a.name("sk").getter(RouteItem::sk).setter(RouteItem::sk).tags(primarySortKey()))
          .addAttribute(
              String.class, a -> a.name("type").getter(RouteItem::type).setter(RouteItem::type))
          .addAttribute(
              String.class, a -> a.name("name").getter(RouteItem::name).setter(RouteItem::name))
          .addAttribute(
              String.class, a -> a.name("cpu").getter(RouteItem::cpu).setter(RouteItem::cpu))
          .addAttribute(
              String.class,
              a -> a.name("memory").getter(RouteItem::memory).setter(RouteItem::memory))
          .addAttribute(
              String.class,
              a ->
                  a.name("instanceType")
                      .getter(RouteItem::instanceType)
                      .setter(RouteItem::instanceType))
          .addAttribute(
              String.class, a -> a.name("image").getter(RouteItem::image).setter(RouteItem::image))
          .addAttribute(
              String.class, a -> a.name("ami").getter(RouteItem::ami).setter(RouteItem::ami))
          .addAttribute(
              String.class,
              a ->
                  a.name("maxLifetime")
                      .getter(RouteItem::maxLifetime)
                      .setter(RouteItem::maxLifetime))
          .build();

  private String pk;
  private String sk;
  private String type;
  private String name;
  private String cpu;
  private String memory;
  private String instanceType;
  private String image;
  private String ami;
  private String maxLifetime;

  /** The partition key of a job name, or of every job for {@code null}. */
  static String partition(String jobName) {
    return jobName == null ? ANY_JOB : JOB_PREFIX + jobName;
  }

  /** The sort key of a tag set: {@code tags#} then the sorted tags, each followed by {@code #}. */
  static String sortKey(Collection<String> tags) {
    StringBuilder b = new StringBuilder(TAGS_PREFIX);
    List<String> sorted = new ArrayList<>(RouteRule.normaliseTags(tags));
    b.append(String.join("#", sorted));
    return b.toString();
  }

  /** The tags a sort key requires, or null when it is not a {@code tags#...} key. */
  static List<String> tagsOf(String sortKey) {
    if (sortKey == null || !sortKey.startsWith(TAGS_PREFIX)) {
      return null;
    }
    List<String> tags = new ArrayList<>();
    for (String t : sortKey.substring(TAGS_PREFIX.length()).split("#")) {
      if (!t.isBlank()) {
        tags.add(t);
      }
    }
    return tags;
  }

  String pk() {
    return pk;
  }

  void pk(String v) {
    pk = v;
  }

  String sk() {
    return sk;
  }

  void sk(String v) {
    sk = v;
  }

  String type() {
    return type;
  }

  void type(String v) {
    type = v;
  }

  String name() {
    return name;
  }

  void name(String v) {
    name = v;
  }

  String cpu() {
    return cpu;
  }

  void cpu(String v) {
    cpu = v;
  }

  String memory() {
    return memory;
  }

  void memory(String v) {
    memory = v;
  }

  String instanceType() {
    return instanceType;
  }

  void instanceType(String v) {
    instanceType = v;
  }

  String image() {
    return image;
  }

  void image(String v) {
    image = v;
  }

  String ami() {
    return ami;
  }

  void ami(String v) {
    ami = v;
  }

  String maxLifetime() {
    return maxLifetime;
  }

  void maxLifetime(String v) {
    maxLifetime = v;
  }
}
