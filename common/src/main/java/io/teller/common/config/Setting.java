package io.teller.common.config;

import java.util.Locale;
import java.util.Objects;

/**
 * One configuration setting: its dotted path in the YAML file (and in the classpath defaults), its
 * type, and a one-line description. The environment variable is derived from the path, so the two
 * names never drift apart: {@code cluster.name} is {@code TELLER_CLUSTER_NAME}.
 *
 * @param path dotted path, lower case, e.g. {@code cluster.members}
 * @param type how the raw value is parsed and validated
 * @param description one line for the README and {@code --help}
 */
public record Setting(String path, SettingType type, String description) {

  /** The prefix of every Teller environment variable. */
  public static final String ENV_PREFIX = "TELLER_";

  public Setting {
    Objects.requireNonNull(path);
    Objects.requireNonNull(type);
    if (!path.matches("[a-z][a-z0-9]*(\\.[a-z][a-z0-9]*)*")) {
      throw new IllegalArgumentException("setting path must be dotted lower-case words: " + path);
    }
  }

  /** The environment variable that overrides this setting, e.g. {@code TELLER_CLUSTER_NAME}. */
  public String env() {
    return ENV_PREFIX + path.toUpperCase(Locale.ROOT).replace('.', '_');
  }
}
