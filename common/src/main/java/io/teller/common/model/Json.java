package io.teller.common.model;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Strict readers for JSON input: each names the field at fault on a wrong type or value. */
final class Json {

  private Json() {}

  static void onlyKnownFields(JsonObject json, String prefix, Set<String> known) {
    for (String key : json.fieldNames()) {
      if (!known.contains(key)) {
        throw new ValidationException(path(prefix, key), "unknown field");
      }
    }
  }

  static String path(String prefix, String key) {
    return prefix.isEmpty() ? key : prefix + "." + key;
  }

  static String string(JsonObject json, String prefix, String key, String fallback) {
    Object value = json.getValue(key);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof String s)) {
      throw new ValidationException(path(prefix, key), "must be a string");
    }
    return s;
  }

  static int integer(JsonObject json, String prefix, String key, int fallback, int min, int max) {
    Object value = json.getValue(key);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
      throw new ValidationException(path(prefix, key), "must be an integer");
    }
    long l = n.longValue();
    if (l < min || l > max) {
      throw new ValidationException(path(prefix, key), "must be between " + min + " and " + max);
    }
    return (int) l;
  }

  static double number(
      JsonObject json, String prefix, String key, double fallback, double min, double max) {
    Object value = json.getValue(key);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof Number n)) {
      throw new ValidationException(path(prefix, key), "must be a number");
    }
    double d = n.doubleValue();
    if (!(d >= min && d <= max)) {
      throw new ValidationException(path(prefix, key), "must be between " + min + " and " + max);
    }
    return d;
  }

  static Integer optionalInteger(JsonObject json, String prefix, String key, int min, int max) {
    return json.getValue(key) == null ? null : integer(json, prefix, key, 0, min, max);
  }

  static boolean bool(JsonObject json, String prefix, String key, boolean fallback) {
    Object value = json.getValue(key);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof Boolean b)) {
      throw new ValidationException(path(prefix, key), "must be true or false");
    }
    return b;
  }

  static JsonObject object(JsonObject json, String prefix, String key) {
    Object value = json.getValue(key);
    if (value == null) {
      return null;
    }
    if (!(value instanceof JsonObject o)) {
      throw new ValidationException(path(prefix, key), "must be an object");
    }
    return o;
  }

  static List<String> strings(JsonObject json, String prefix, String key) {
    Object value = json.getValue(key);
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof JsonArray array)) {
      throw new ValidationException(path(prefix, key), "must be an array of strings");
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      if (!(array.getValue(i) instanceof String s)) {
        throw new ValidationException(path(prefix, key) + "[" + i + "]", "must be a string");
      }
      out.add(s);
    }
    return List.copyOf(out);
  }

  static Map<String, String> stringMap(JsonObject json, String prefix, String key) {
    JsonObject object = object(json, prefix, key);
    if (object == null) {
      return Map.of();
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (String name : object.fieldNames()) {
      if (!(object.getValue(name) instanceof String s)) {
        throw new ValidationException(path(prefix, key) + "." + name, "must be a string");
      }
      out.put(name, s);
    }
    return java.util.Collections.unmodifiableMap(out);
  }
}
