package io.teller.common.config;

/**
 * A user mistake in configuration: a bad value, an unreadable file, an unknown option.
 *
 * <p>Its message is one line meant for the user, naming the setting and the value at fault; the
 * launcher prints it without a stack trace and exits with code {@value #EXIT_CODE}.
 */
public final class ConfigException extends RuntimeException {

  /** The process exit code for a configuration mistake. */
  public static final int EXIT_CODE = 2;

  public ConfigException(String message) {
    super(message, null, false, false);
  }

  /** A bad value for a known setting. */
  public static ConfigException badValue(Setting setting, Object value, String reason) {
    return new ConfigException(
        "bad configuration: "
            + setting.env()
            + " ("
            + setting.path()
            + ") = \""
            + value
            + "\": "
            + reason);
  }
}
