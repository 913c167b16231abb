package io.teller.registry.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A quick yes for the bodies a small request schema certainly accepts, so that the hot write routes
 * (a registration) skip the full JSON Schema validator, which cost more than a tenth of a loaded
 * registry's CPU. Hand-written because vertx-json-schema has no cheaper mode; it stays equivalent
 * by never saying no: a body it does not accept goes to the full validator, which decides and names
 * the field at fault.
 *
 * <p>Made only from schemas that use nothing but {@code type} (object, string, integer), {@code
 * properties}, {@code required}, {@code additionalProperties} (false or a schema), {@code
 * maxLength}, {@code minimum}, {@code maximum} and the annotations {@code description} and {@code
 * default}, with {@code $ref}s to {@code #/components/schemas}; any other keyword and there is no
 * quick yes for that schema. Each check is at least as strict as the keyword: a string's length in
 * UTF-16 units (never fewer than its code points), integers only as Java integers (not {@code
 * 1.0}), no nulls.
 */
final class PlainSchema {

  private static final Set<String> KEYWORDS =
      Set.of(
          "type",
          "properties",
          "required",
          "additionalProperties",
          "maxLength",
          "minimum",
          "maximum",
          "description",
          "default");

  private interface Check {
    boolean accepts(Object value);
  }

  private final Check check;

  private PlainSchema(Check check) {
    this.check = check;
  }

  /** Whether the schema certainly accepts {@code value}; false means "ask the full validator". */
  boolean certainlyValid(Object value) {
    return check.accepts(value);
  }

  /**
   * The quick check for {@code schema}, or null when it uses more than this understands.
   *
   * @param schemas the document's {@code components.schemas}, for {@code $ref}s
   */
  static PlainSchema of(JsonObject schema, JsonObject schemas) {
    Check check = compile(schema, schemas, 0);
    return check == null ? null : new PlainSchema(check);
  }

  private static Check compile(JsonObject schema, JsonObject schemas, int depth) {
    if (schema == null || depth > 8) {
      return null;
    }
    if (schema.containsKey("$ref")) {
      String ref = String.valueOf(schema.getValue("$ref"));
      String prefix = "#/components/schemas/";
      if (schema.size() != 1 || !ref.startsWith(prefix) || schemas == null) {
        return null;
      }
      Object target = schemas.getValue(ref.substring(prefix.length()));
      return target instanceof JsonObject t ? compile(t, schemas, depth + 1) : null;
    }
    for (String keyword : schema.fieldNames()) {
      if (!KEYWORDS.contains(keyword)) {
        return null;
      }
    }
    Object type = schema.getValue("type");
    if ("string".equals(type)) {
      return onlyKeywords(schema, "maxLength") ? string(schema) : null;
    }
    if ("integer".equals(type)) {
      return onlyKeywords(schema, "minimum", "maximum") ? integer(schema) : null;
    }
    if ("object".equals(type)) {
      return onlyKeywords(schema, "properties", "required", "additionalProperties")
          ? object(schema, schemas, depth)
          : null;
    }
    return null;
  }

  /** Whether {@code schema}'s keywords besides type and annotations are among {@code allowed}. */
  private static boolean onlyKeywords(JsonObject schema, String... allowed) {
    Set<String> ok = Set.of(allowed);
    for (String keyword : schema.fieldNames()) {
      if (!keyword.equals("type")
          && !keyword.equals("description")
          && !keyword.equals("default")
          && !ok.contains(keyword)) {
        return false;
      }
    }
    return true;
  }

  private static Check string(JsonObject schema) {
    Object max = schema.getValue("maxLength");
    if (max != null && !(max instanceof Integer)) {
      return null;
    }
    int maxLength = max == null ? Integer.MAX_VALUE : (Integer) max;
    return value -> value instanceof String s && s.length() <= maxLength;
  }

  private static Check integer(JsonObject schema) {
    Object min = schema.getValue("minimum");
    Object max = schema.getValue("maximum");
    if ((min != null && !(min instanceof Integer || min instanceof Long))
        || (max != null && !(max instanceof Integer || max instanceof Long))) {
      return null;
    }
    long minimum = min == null ? Long.MIN_VALUE : ((Number) min).longValue();
    long maximum = max == null ? Long.MAX_VALUE : ((Number) max).longValue();
    return value -> {
      if (!(value instanceof Integer || value instanceof Long)) {
        return false;
      }
      long v = ((Number) value).longValue();
      return v >= minimum && v <= maximum;
    };
  }

  private static Check object(JsonObject schema, JsonObject schemas, int depth) {
    Map<String, Check> properties = new HashMap<>();
    Object declared = schema.getValue("properties");
    if (declared != null) {
      if (!(declared instanceof JsonObject props)) {
        return null;
      }
      for (String name : props.fieldNames()) {
        Check property =
            props.getValue(name) instanceof JsonObject p ? compile(p, schemas, depth + 1) : null;
        if (property == null) {
          return null;
        }
        properties.put(name, property);
      }
    }
    List<String> required = new ArrayList<>();
    Object req = schema.getValue("required");
    if (req != null) {
      if (!(req instanceof JsonArray names)) {
        return null;
      }
      for (Object name : names) {
        if (!(name instanceof String n)) {
          return null;
        }
        required.add(n);
      }
    }
    Object additional = schema.getValue("additionalProperties");
    Check others;
    if (additional == null || Boolean.TRUE.equals(additional)) {
      others = value -> true;
    } else if (Boolean.FALSE.equals(additional)) {
      others = null;
    } else if (additional instanceof JsonObject a) {
      others = compile(a, schemas, depth + 1);
      if (others == null) {
        return null;
      }
    } else {
      return null;
    }
    Check rest = others;
    return value -> {
      if (!(value instanceof JsonObject object)) {
        return false;
      }
      for (String name : required) {
        if (!object.containsKey(name)) {
          return false;
        }
      }
      for (String name : object.fieldNames()) {
        Object field = object.getValue(name);
        Check property = properties.get(name);
        Check applies = property != null ? property : rest;
        if (field == null || applies == null || !applies.accepts(field)) {
          return false;
        }
      }
      return true;
    };
  }
}
