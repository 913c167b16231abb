package io.teller.balancer.proxy;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import java.util.Locale;

/**
 * HTTP/1.1 protocol upgrades (RFC 9110 §7.8), WebSocket above all: the one case where {@code
 * Upgrade} and {@code Connection} must reach the instance, and its {@code 101} the client, for the
 * two to agree on switching protocols; from then on the balancer passes bytes.
 */
final class Upgrades {

  private Upgrades() {}

  /** Whether the client asks to switch protocols on this HTTP/1.1 connection. */
  static boolean isUpgrade(HttpServerRequest request) {
    if (request.version() != HttpVersion.HTTP_1_1) {
      return false;
    }
    String upgrade = request.getHeader(HttpHeaders.UPGRADE);
    String connection = request.getHeader(HttpHeaders.CONNECTION);
    return upgrade != null
        && !upgrade.isBlank()
        && connection != null
        && connection.toLowerCase(Locale.ROOT).contains("upgrade");
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
