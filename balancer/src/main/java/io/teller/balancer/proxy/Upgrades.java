package io.teller.balancer.proxy;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import java.util.List;
import java.util.Locale;

/**
 * HTTP/1.1 protocol upgrades (RFC 9110 §7.8), WebSocket above all: the one case where {@code
 * Upgrade} and {@code Connection} must reach the instance, and its {@code 101} the client, for the
 * two to agree on switching protocols; from then on the balancer passes bytes.
 */
final class Upgrades {

  private Upgrades() {}

  /**
   * Whether the client asks to switch protocols on this HTTP/1.1 connection, to protocols that are
   * all {@code allowed} (the service's {@code upgrades}, lower case). Any other upgrade is not one:
   * its {@code Upgrade} and {@code Connection} fields are hop-by-hop and dropped, and the request
   * goes on as a plain request (RFC 9110 §7.8 lets a server ignore {@code Upgrade}). {@code h2c}
   * never passes: it would open a raw HTTP/2 channel to the instance, past routing.
   */
  static boolean isUpgrade(HttpServerRequest request, List<String> allowed) {
    if (request.version() != HttpVersion.HTTP_1_1) {
      return false;
    }
    List<String> upgrade = request.headers().getAll(HttpHeaders.UPGRADE);
    if (upgrade.size() != 1
        || !Headers.namedIn(request.headers().getAll(HttpHeaders.CONNECTION)).contains("upgrade")) {
      return false;
    }
    boolean any = false;
    for (String token : upgrade.get(0).split(",")) {
      String protocol = token.strip().toLowerCase(Locale.ROOT);
      int slash = protocol.indexOf('/');
      String name = slash < 0 ? protocol : protocol.substring(0, slash);
      if (name.isEmpty() || name.equals("h2c") || !allowed.contains(name)) {
        return false;
      }
      any = true;
    }
    return any;
  }

  /** Puts back the upgrade request headers that end-to-end copying removed. */
  static void keepUpgrade(MultiMap fromClient, MultiMap toBackend) {
    toBackend.set(HttpHeaders.CONNECTION, HttpHeaders.UPGRADE);
    toBackend.set(HttpHeaders.UPGRADE, fromClient.get(HttpHeaders.UPGRADE));
  }

  /** The instance's {@code 101} headers for the client: its handshake, and the upgrade itself. */
  static void copyHandshake(MultiMap fromBackend, MultiMap toClient) {
    Headers.copyEndToEnd(fromBackend, toClient);
    toClient.set(HttpHeaders.CONNECTION, HttpHeaders.UPGRADE);
    String upgrade = fromBackend.get(HttpHeaders.UPGRADE);
    if (upgrade != null) {
      toClient.set(HttpHeaders.UPGRADE, upgrade);
    }
  }
}
