package io.teller.balancer.proxy;

import io.netty.util.AsciiString;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/** Hop-by-hop header handling (RFC 9110 §7.6.1) and the forwarding headers a proxy adds. */
final class Headers {

  // Hashed once: the forwarding headers are set on every request.
  private static final CharSequence X_FORWARDED_FOR =
      HttpHeaders.createOptimized("x-forwarded-for");
  private static final CharSequence FORWARDED = HttpHeaders.createOptimized("forwarded");
  private static final CharSequence X_FORWARDED_PROTO =
      HttpHeaders.createOptimized("x-forwarded-proto");
  private static final CharSequence X_FORWARDED_HOST =
      HttpHeaders.createOptimized("x-forwarded-host");
  private static final CharSequence X_FORWARDED_PORT =
      HttpHeaders.createOptimized("x-forwarded-port");

  /**
   * Whether {@code name} is meaningful only for one connection, never forwarded in either direction
   * (RFC 9110 §7.6.1): Connection, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade and every
   * Proxy-* field. Compared in place, without lower-casing a copy: this runs for every field of
   * every request and answer.
   */
  static boolean isHopByHop(CharSequence name) {
    int length = name.length();
    if (length < 2) {
      return false;
    }
    // The first letter first: most fields (content-*, date, server, x-*) end there.
    return switch (name.charAt(0) | 0x20) {
      case 't' ->
          length == 2
              ? (name.charAt(1) | 0x20) == 'e'
              : length == 7
                  ? AsciiString.contentEqualsIgnoreCase(name, "trailer")
                  : length == 17 && AsciiString.contentEqualsIgnoreCase(name, "transfer-encoding");
      case 'u' -> length == 7 && AsciiString.contentEqualsIgnoreCase(name, "upgrade");
      case 'c' -> length == 10 && AsciiString.contentEqualsIgnoreCase(name, "connection");
      case 'k' -> length == 10 && AsciiString.contentEqualsIgnoreCase(name, "keep-alive");
      case 'p' -> length > 6 && AsciiString.regionMatches(name, true, 0, "proxy-", 0, 6);
      default -> false;
    };
  }

  private Headers() {}

  /**
   * Copies {@code from} into {@code to} without hop-by-hop headers and those named in Connection.
   * Runs for every request and answer, so the usual case (no Connection line, or one naming only
   * hop-by-hop fields such as {@code keep-alive}) lower-cases and looks up nothing.
   */
  static void copyEndToEnd(MultiMap from, MultiMap to) {
    // Every Connection line counts: a second line naming a field must not let that field through.
    Set<String> named = Set.of();
    List<String> connection = from.getAll(HttpHeaders.CONNECTION);
    if (!connection.isEmpty() && !namesOneHopByHopField(connection)) {
      named = namedIn(connection);
      named.removeIf(Headers::isHopByHop); // dropped anyway
    }
    if (from instanceof io.netty.handler.codec.http.HttpHeaders decoded) {
      // Vert.x's own headers (an HTTP/1 request's, an answer's): their names and values as the
      // decoder made them, with no String made of each, and names that Vert.x checks fastest.
      Iterator<Map.Entry<CharSequence, CharSequence>> fields = decoded.iteratorCharSequence();
      while (fields.hasNext()) {
        Map.Entry<CharSequence, CharSequence> field = fields.next();
        CharSequence name = field.getKey();
        if (endToEnd(name, named)) {
          to.add(name, field.getValue());
        }
      }
      return;
    }
    for (var header : from) {
      String name = header.getKey();
      if (endToEnd(name, named)) {
        to.add(name, header.getValue());
      }
    }
  }

  /** Whether a field called {@code name} goes on, when Connection lines name {@code named}. */
  private static boolean endToEnd(CharSequence name, Set<String> named) {
    return !isHopByHop(name)
        && (named.isEmpty() || !named.contains(name.toString().toLowerCase(Locale.ROOT)));
  }

  /** Whether the Connection lines are one {@code keep-alive} or {@code close}, as most are. */
  private static boolean namesOneHopByHopField(List<String> connection) {
    if (connection.size() != 1) {
      return false;
    }
    String only = connection.get(0);
    return only.equalsIgnoreCase("keep-alive") || only.equalsIgnoreCase("close");
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
   * The forwarding headers of one listener's requests: {@code X-Forwarded-For} and the RFC 7239
   * {@code Forwarded} header (appended to when the client is a trusted proxy, else replaced: a
   * client's own claim about where it comes from is not passed on), and {@code X-Forwarded-Proto},
   * {@code -Host}, {@code -Port} (set). It keeps the values it made for the last request, which the
   * next request of a keep-alive connection needs again: the same client, host and port. Confined
   * to one event loop.
   */
  static final class Forwarding {
    private final String proto;
    private String lastClientIp;
    private String lastHost;
    private String lastForwarded;
    private int lastPort = -1;
    private String lastPortText;

    Forwarding(String proto) {
      this.proto = proto;
    }

    /** Adds the forwarding headers of a request from {@code clientIp} for {@code host}. */
    void add(MultiMap headers, String clientIp, String host, int port, boolean trusted) {
      // set() replaces what the client sent under these names; from a trusted proxy it is kept.
      String previous = trusted ? headers.get(X_FORWARDED_FOR) : null;
      headers.set(X_FORWARDED_FOR, previous == null ? clientIp : previous + ", " + clientIp);
      headers.set(X_FORWARDED_PROTO, proto);
      if (host != null) {
        headers.set(X_FORWARDED_HOST, host);
      }
      if (port != lastPort) {
        lastPort = port;
        lastPortText = Integer.toString(port);
      }
      headers.set(X_FORWARDED_PORT, lastPortText);
      String forwarded = forwarded(clientIp, host);
      String previousForwarded = trusted ? headers.get(FORWARDED) : null;
      headers.set(
          FORWARDED, previousForwarded == null ? forwarded : previousForwarded + ", " + forwarded);
    }

    /** This hop's {@code Forwarded} element. */
    private String forwarded(String clientIp, String host) {
      if (clientIp.equals(lastClientIp) && Objects.equals(host, lastHost)) {
        return lastForwarded;
      }
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
      lastClientIp = clientIp;
      lastHost = host;
      lastForwarded = forwarded.toString();
      return lastForwarded;
    }
  }
}
