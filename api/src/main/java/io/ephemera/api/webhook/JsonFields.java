package io.ephemera.api.webhook;

import io.ephemera.api.error.ApiException;
import tools.jackson.databind.JsonNode;

/**
 * Reads fields of a webhook payload with the checks every hook needs: a present field of the wrong
 * type or value is a 400 naming it by its JSON path ({@code object_attributes.iid}, {@code
 * runner.id}); an absent one is an error only where the caller requires it. Values are never echoed
 * back: they are whatever the sender put there.
 */
final class JsonFields {
  private JsonFields() {}

  /** The JSON path of {@code field} under {@code prefix}; {@code prefix} is null at the root. */
  static String name(String prefix, String field) {
    return prefix == null ? field : prefix + "." + field;
  }

  /** A JSON object, or null when absent (or JSON null) and not required. */
  static JsonNode object(JsonNode parent, String prefix, String field, boolean required) {
    String name = name(prefix, field);
    JsonNode node = parent.get(field);
    if (node == null || node.isNull()) {
      if (required) {
        throw missing(name);
      }
      return null;
    }
    if (!node.isObject()) {
      throw ApiException.invalidField(name, name + " must be a JSON object.");
    }
    return node;
  }

  /** A positive whole number, or 0 when absent and not required. */
  static long positiveId(JsonNode parent, String prefix, String field, boolean required) {
    String name = name(prefix, field);
    JsonNode node = parent.get(field);
    if (node == null || node.isNull()) {
      if (required) {
        throw missing(name);
      }
      return 0;
    }
    if (!node.isIntegralNumber() || !node.canConvertToLong()) {
      throw ApiException.invalidField(name, name + " must be a whole number.");
    }
    long value = node.longValue();
    if (value <= 0) {
      throw ApiException.invalidField(name, name + " must be positive, was " + value + ".");
    }
    return value;
  }

  /** A string of at most {@code maxLength} characters, or null when absent. */
  static String string(JsonNode parent, String prefix, String field, int maxLength) {
    String name = name(prefix, field);
    JsonNode node = parent.get(field);
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isString()) {
      throw ApiException.invalidField(name, name + " must be a string.");
    }
    String value = node.stringValue();
    if (value.length() > maxLength) {
      throw ApiException.invalidField(name, name + " is longer than " + maxLength + " characters.");
    }
    return value;
  }

  static ApiException missing(String field) {
    return ApiException.invalidField(field, field + " is required.");
  }
}
