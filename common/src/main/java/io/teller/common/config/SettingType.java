package io.teller.common.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * How a setting's raw value (a string from the environment, or any YAML scalar or list) is parsed
 * and checked. Each type turns a raw value into a typed one or throws a {@link ConfigException}
 * that names the setting and the value.
 */
@FunctionalInterface
public interface SettingType {

  /** Parses and validates {@code raw} for {@code setting}. */
  Object parse(Setting setting, Object raw);

  /** The value as the user would write it again (for printing); secrets override this. */
  default String display(Object value) {
    return value instanceof List<?> list
        ? String.join(",", list.stream().map(String::valueOf).toList())
        : String.valueOf(value);
  }

  /** A non-empty string. */
  SettingType STRING =
      (setting, raw) -> {
        String s = scalar(setting, raw).trim();
        if (s.isEmpty()) {
          throw ConfigException.badValue(setting, raw, "must not be empty");
        }
        return s;
      };

  /** A string that may be empty (empty means "not set"). */
  SettingType OPTIONAL_STRING = (setting, raw) -> scalar(setting, raw).trim();

  /** A string that is never printed. */
  SettingType SECRET =
      new SettingType() {
        @Override
        public Object parse(Setting setting, Object raw) {
          return scalar(setting, raw).trim();
        }

        @Override
        public String display(Object value) {
          return String.valueOf(value).isEmpty() ? "" : "(set, hidden)";
        }
      };

  /** A TCP port, 1–65535. */
  SettingType PORT = integer(1, 65535, "must be a port number between 1 and 65535");

  /** A TCP port, or 0 for a free port chosen at start. */
  SettingType PORT_OR_ZERO =
      integer(0, 65535, "must be a port number between 1 and 65535, or 0 for a free port");

  /** {@code true} or {@code false} (also yes/no, on/off). */
  SettingType BOOLEAN =
      (setting, raw) -> {
        if (raw instanceof Boolean b) {
          return b;
        }
        String s = scalar(setting, raw).trim().toLowerCase(Locale.ROOT);
        return switch (s) {
          case "true", "yes", "on", "1" -> true;
          case "false", "no", "off", "0" -> false;
          default -> throw ConfigException.badValue(setting, raw, "must be true or false");
        };
      };

  /** A host name or an IP address. */
  SettingType HOST =
      (setting, raw) -> {
        String s = scalar(setting, raw).trim();
        if (!Hosts.isHost(s)) {
          throw ConfigException.badValue(setting, raw, "must be a host name or an IP address");
        }
        return s;
      };

  /** A host name or an IP address, or empty for "not set" (another setting then decides). */
  SettingType OPTIONAL_HOST =
      (setting, raw) -> {
        String s = scalar(setting, raw).trim();
        if (!s.isEmpty() && !Hosts.isHost(s)) {
          throw ConfigException.badValue(
              setting, raw, "must be a host name, an IP address, or empty");
        }
        return s;
      };

  /**
   * A list of {@code host[:port]}, comma-separated in a string or a YAML list; the result is a
   * {@code List<String>}.
   */
  SettingType HOST_PORT_LIST =
      (setting, raw) -> {
        List<String> items = new ArrayList<>();
        if (raw instanceof Collection<?> c) {
          c.forEach(item -> items.add(String.valueOf(item).trim()));
        } else {
          Arrays.stream(scalar(setting, raw).split(",")).map(String::trim).forEach(items::add);
        }
        items.removeIf(String::isEmpty);
        if (items.isEmpty()) {
          throw ConfigException.badValue(setting, raw, "must name at least one host[:port]");
        }
        for (String item : items) {
          if (!Hosts.isHostPort(item)) {
            throw ConfigException.badValue(
                setting, raw, "\"" + item + "\" is not a host or host:port (port 1-65535)");
          }
        }
        return List.copyOf(items);
      };

  /** A name made of letters, digits, dot, dash and underscore. */
  SettingType NAME =
      (setting, raw) -> {
        String s = scalar(setting, raw).trim();
        if (!Pattern.matches("[A-Za-z0-9._-]{1,64}", s)) {
          throw ConfigException.badValue(
              setting, raw, "must be 1-64 letters, digits, '.', '-' or '_'");
        }
        return s;
      };

  /** A directory path; a leading {@code ~} is the user's home. The result is a {@link Path}. */
  SettingType DIRECTORY =
      (setting, raw) -> {
        String s = scalar(setting, raw).trim();
        if (s.isEmpty()) {
          throw ConfigException.badValue(setting, raw, "must not be empty");
        }
        if (s.equals("~") || s.startsWith("~/")) {
          s = System.getProperty("user.home") + s.substring(1);
        }
        Path path = Path.of(s).toAbsolutePath().normalize();
        if (path.toFile().exists() && !path.toFile().isDirectory()) {
          throw ConfigException.badValue(setting, raw, "exists and is not a directory");
        }
        return path;
      };

  /** An integer within bounds. */
  static SettingType integer(int min, int max, String reason) {
    return (setting, raw) -> {
      long value;
      if (raw instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
        value = n.longValue();
      } else {
        try {
          value = Long.parseLong(scalar(setting, raw).trim());
        } catch (NumberFormatException e) {
          throw ConfigException.badValue(setting, raw, reason);
        }
      }
      if (value < min || value > max) {
        throw ConfigException.badValue(setting, raw, reason);
      }
      return (int) value;
    };
  }

  /** One of a fixed set of words. */
  static SettingType oneOf(String... choices) {
    Set<String> allowed = Set.of(choices);
    return (setting, raw) -> {
      String s = scalar(setting, raw).trim();
      if (!allowed.contains(s)) {
        throw ConfigException.badValue(
            setting, raw, "must be one of " + String.join(", ", List.of(choices)));
      }
      return s;
    };
  }

  private static String scalar(Setting setting, Object raw) {
    if (raw instanceof Collection<?>
        || raw instanceof java.util.Map<?, ?>
        || raw instanceof io.vertx.core.json.JsonObject
        || raw instanceof io.vertx.core.json.JsonArray) {
      throw ConfigException.badValue(setting, raw, "must be a single value");
    }
    return String.valueOf(raw);
  }

  /** Host syntax checks, without name resolution. */
  final class Hosts {
    private static final Pattern LABEL =
        Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");
    private static final Pattern IPV4 =
        Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");

    private Hosts() {}

    /** True for a DNS name, an IPv4 address, or an IPv6 address (bare or in brackets). */
    public static boolean isHost(String s) {
      if (s.isEmpty() || s.length() > 253) {
        return false;
      }
      if (s.startsWith("[") && s.endsWith("]")) {
        return isIpv6(s.substring(1, s.length() - 1));
      }
      if (s.indexOf(':') >= 0) {
        return isIpv6(s);
      }
      var ipv4 = IPV4.matcher(s);
      if (ipv4.matches()) {
        for (int i = 1; i <= 4; i++) {
          if (Integer.parseInt(ipv4.group(i)) > 255) {
            return false;
          }
        }
        return true;
      }
      if (s.chars().allMatch(c -> Character.isDigit(c) || c == '.')) {
        return false;
      }
      for (String label : s.split("\\.", -1)) {
        if (!LABEL.matcher(label).matches()) {
          return false;
        }
      }
      return true;
    }

    /** True for {@code host} or {@code host:port} with a port 1-65535 ({@code [v6]:port} too). */
    public static boolean isHostPort(String s) {
      int colon = s.lastIndexOf(':');
      boolean bracketed = s.startsWith("[");
      if (colon < 0
          || (bracketed && colon < s.indexOf(']'))
          || (!bracketed && s.indexOf(':') != colon)) {
        return isHost(s);
      }
      String port = s.substring(colon + 1);
      if (!port.matches("\\d{1,5}")
          || Integer.parseInt(port) < 1
          || Integer.parseInt(port) > 65535) {
        return false;
      }
      return isHost(s.substring(0, colon));
    }

    private static boolean isIpv6(String s) {
      if (!s.matches("[0-9A-Fa-f:.]+") || !s.contains(":")) {
        return false;
      }
      try {
        // A literal is parsed without any lookup.
        return InetAddress.getByName(s) != null;
      } catch (UnknownHostException e) {
        return false;
      }
    }
  }
}
