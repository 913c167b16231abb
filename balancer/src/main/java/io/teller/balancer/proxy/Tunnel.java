package io.teller.balancer.proxy;

import io.vertx.core.Future;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.net.NetSocket;

/**
 * The fourth stage, for an upgrade (WebSocket) the instance agreed to ({@code 101}): from then on
 * the connection is no longer HTTP, and bytes pass both ways until either side closes. The exchange
 * ends, and is counted, when the tunnel closes.
 */
final class Tunnel {

  private final String scheme;

  Tunnel(String scheme) {
    this.scheme = scheme;
  }

  /** Completes once the tunnel is open. */
  Future<Void> open(Exchange exchange, HttpClientResponse answer) {
    Upgrades.copyHandshake(answer.headers(), exchange.response.headers());
    exchange.stick(scheme);
    NetSocket toBackend = answer.netSocket();
    return exchange
        .request
        .toNetSocket()
        .<Void>map(
            toClient -> {
              exchange.tunnelled = true;
              toClient.closeHandler(
                  v -> {
                    toBackend.close();
                    exchange.handle(null);
                  });
              toBackend.closeHandler(v -> toClient.close());
              toClient.pipeTo(toBackend);
              toBackend.pipeTo(toClient);
              return null;
            })
        .onFailure(e -> toBackend.close());
  }
}
