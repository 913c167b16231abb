package io.teller.common.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * A program's validated configuration: every declared setting with its typed value, and where the
 * value came from. Immutable; built by {@link ConfigLoader}.
 */
public final class TellerConfig {

  /** Where a value came from, for {@code --print-config} and error messages. */
  public enum Source {
    DEFAULT,
    FILE,
    ENVIRONMENT
  }

  private final Map<Setting, Object> values;
  private final Map<Setting, Source> sources;

  private TellerConfig(Map<Setting, Object> values, Map<Setting, Source> sources) {
    this.values = Collections.unmodifiableMap(values);
    this.sources = Collections.unmodifiableMap(sources);
  }

  /**
   * Validates the merged JSON of the stores against {@code settings}. A value from the environment
   * (a flat {@code TELLER_*} key) beats one from the YAML file or defaults (a nested path).
   *
   * @param merged the merged stores
   * @param fileJson the YAML file's content alone (to tell file values from defaults), or empty
   * @param settings every setting this program knows
   */
  static TellerConfig validate(JsonObject merged, JsonObject fileJson, List<Setting> settings) {
    Map<Setting, Object> values = new LinkedHashMap<>();
    Map<Setting, Source> sources = new LinkedHashMap<>();
    for (Setting setting : settings) {
      Object raw;
      Source source;
      if (merged.containsKey(setting.env())) {
        raw = merged.getValue(setting.env());
        source = Source.ENVIRONMENT;
      } else {
        raw = lookup(merged, setting.path());
        source = lookup(fileJson, setting.path()) != null ? Source.FILE : Source.DEFAULT;
      }
      if (raw == null) {
        throw new ConfigException(
            "bad configuration: " + setting.env() + " (" + setting.path() + ") has no value");
      }
      if (raw instanceof JsonArray array) {
        raw = array.getList();
      }
      values.put(setting, setting.type().parse(setting, raw));
      sources.put(setting, source);
    }
    return new TellerConfig(values, sources);
  }

  /** Builds a configuration from typed values directly, for tests and embedding. */
  public static TellerConfig of(Map<Setting, Object> values) {
    Map<Setting, Source> sources = new LinkedHashMap<>();
    values.keySet().forEach(s -> sources.put(s, Source.DEFAULT));
    return new TellerConfig(new LinkedHashMap<>(values), sources);
  }

  /** Returns a copy with {@code setting} set to the already-typed {@code value}. */
  public TellerConfig with(Setting setting, Object value) {
    Map<Setting, Object> copy = new LinkedHashMap<>(values);
    Map<Setting, Source> copySources = new LinkedHashMap<>(sources);
    copy.put(setting, value);
    copySources.put(setting, Source.DEFAULT);
    return new TellerConfig(copy, copySources);
  }

  /** Paths found in the YAML file that no setting of this program declares. */
  static List<String> unknownPaths(JsonObject fileJson, List<Setting> settings) {
    List<String> unknown = new ArrayList<>();
    collectLeaves(fileJson, "", unknown);
    unknown.removeIf(path -> settings.stream().anyMatch(s -> s.path().equals(path)));
    return unknown;
  }

  private static void collectLeaves(JsonObject json, String prefix, List<String> out) {
    for (String key : json.fieldNames()) {
      Object value = json.getValue(key);
      String path = prefix.isEmpty() ? key : prefix + "." + key;
      if (value instanceof JsonObject nested) {
        collectLeaves(nested, path, out);
      } else {
        out.add(path);
      }
    }
  }

  private static Object lookup(JsonObject json, String path) {
    Object current = json;
    for (String part : path.split("\\.")) {
      if (!(current instanceof JsonObject object) || !object.containsKey(part)) {
        return null;
      }
      current = object.getValue(part);
    }
    return current;
  }

  private Object value(Setting setting) {
    if (!values.containsKey(setting)) {
      throw new NoSuchElementException("setting not declared by this program: " + setting.path());
    }
    return values.get(setting);
  }

  public String string(Setting setting) {
    return (String) value(setting);
  }

  public int integer(Setting setting) {
    return (Integer) value(setting);
  }

  public boolean bool(Setting setting) {
    return (Boolean) value(setting);
  }

  public Path path(Setting setting) {
    return (Path) value(setting);
  }

  @SuppressWarnings("unchecked")
  public List<String> list(Setting setting) {
    return (List<String>) value(setting);
  }

  /** A list of typed elements, for settings whose type parses into such a list. */
  @SuppressWarnings("unchecked")
  public <T> List<T> list(Setting setting, Class<T> element) {
    return (List<T>) value(setting);
  }

  /** Where {@code setting}'s value came from. */
  public Source source(Setting setting) {
    return sources.get(setting);
  }

  /** The declared settings, in declaration order. */
  public List<Setting> settings() {
    return List.copyOf(values.keySet());
  }

  /** Lines {@code TELLER_X=value # path, source}, secrets hidden. */
  public List<String> describe() {
    List<String> lines = new ArrayList<>();
    values.forEach(
        (setting, value) ->
            lines.add(
                setting.env()
                    + "="
                    + setting.type().display(value)
                    + "  # "
                    + setting.path()
                    + ", from "
                    + sources.get(setting).name().toLowerCase()));
    return lines;
  }
}
