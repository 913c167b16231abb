package io.teller.balancer.proxy;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** Hop-by-hop header handling (RFC 9110 §7.6.1) and the forwarding headers a proxy adds. */
final class Headers {

  /**
   * Whether {@code name} is meaningful only for one connection, never forwarded in either direction
   * (RFC 9110 §7.6.1): Connection, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade and every
   * Proxy-* field. Compared in place, without lower-casing a copy: this runs for every field of
   * every request and answer.
   */
  static boolean isHopByHop(String name) {
    return switch (name.length()) {
      case 2 -> name.equalsIgnoreCase("te");
      case 7 -> name.equalsIgnoreCase("trailer") || name.equalsIgnoreCase("upgrade");
      case 10 -> name.equalsIgnoreCase("connection") || name.equalsIgnoreCase("keep-alive");
      case 17 -> name.equalsIgnoreCase("transfer-encoding");
      default -> name.length() > 6 && name.regionMatches(true, 0, "proxy-", 0, 6);
    };
  }

  private Headers() {}

  /**
   * Copies {@code from} into {@code to} without hop-by-hop headers and those named in Connection.
   */
  static void copyEndToEnd(MultiMap from, MultiMap to) {
    // Every Connection line counts: a second line naming a field must not let that field through.
    List<String> connection = from.getAll(HttpHeaders.CONNECTION);
    Set<String> named = connection.isEmpty() ? Set.of() : namedIn(connection);
    for (var header : from) {
      String name = header.getKey();
      if (!isHopByHop(name)
          && (named.isEmpty() || !named.contains(name.toLowerCase(Locale.ROOT)))) {
        to.add(name, header.getValue());
      }
    }
  }

  /** The field names that {@code Connection} lines list, in lower case. */
  static Set<String> namedIn(List<String> connection) {
    java.util.HashSet<String> names = new java.util.HashSet<>();
    for (String line : connection) {
      for (String token : line.split(",")) {
        String name = token.trim().toLowerCase(Locale.ROOT);
        if (!name.isEmpty()) {
          names.add(name);
        }
      }
    }
    return names;
  }

  /**
   * Adds what the backend needs to know about the original request: {@code X-Forwarded-For} and the
   * RFC 7239 {@code Forwarded} header (appended to when the client is a trusted proxy, else
   * replaced: a client's own claim about where it comes from is not passed on), and {@code
   * X-Forwarded-Proto}, {@code -Host}, {@code -Port} (set).
   */
  static void addForwarding(
      MultiMap headers, String clientIp, String proto, String host, int port, boolean trusted) {
    if (!trusted) {
      headers.remove("x-forwarded-for");
      headers.remove("forwarded");
    }
    String previous = headers.get("x-forwarded-for");
    headers.set("x-forwarded-for", previous == null ? clientIp : previous + ", " + clientIp);
    headers.set("x-forwarded-proto", proto);
    if (host != null) {
      headers.set("x-forwarded-host", host);
    }
    headers.set("x-forwarded-port", Integer.toString(port));
    StringBuilder forwarded = new StringBuilder("for=");
    if (clientIp.indexOf(':') >= 0) {
      forwarded.append("\"[").append(clientIp).append("]\"");
    } else {
      forwarded.append(clientIp);
    }
    if (host != null) {
      forwarded.append(";host=\"").append(host).append('"');
    }
    forwarded.append(";proto=").append(proto);
    String previousForwarded = headers.get("forwarded");
    headers.set(
        "forwarded", previousForwarded == null ? forwarded : previousForwarded + ", " + forwarded);
  }
}
