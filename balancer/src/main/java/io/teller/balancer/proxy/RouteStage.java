package io.teller.balancer.proxy;

import io.teller.balancer.edge.Rejection;
import io.teller.balancer.edge.RequestTarget;
import io.teller.balancer.resilience.Failure;
import io.teller.balancer.routing.RouteTable;
import io.teller.balancer.routing.Routing;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import java.util.function.Supplier;

/**
 * The first stage: finds the service a request is for in the latest {@link Routing}, a local read.
 * A balancer that does not hold the registry's state yet cannot tell "no route" from "not known
 * yet", so it says so ({@code 503}, retry in a second) rather than {@code 404}.
 */
final class RouteStage {

  private final Supplier<Routing> routing;
  private final boolean allowEncodedSeparators;

  RouteStage(Supplier<Routing> routing, boolean allowEncodedSeparators) {
    this.routing = routing;
    this.allowEncodedSeparators = allowEncodedSeparators;
  }

  /** Routes {@code exchange} to its service's pool; returns why it cannot, or null. */
  Failure route(Exchange exchange) {
    Routing current = routing.get();
    if (!current.ready()) {
      return Failure.notReady();
    }
    Failure refused = vet(exchange);
    if (refused != null) {
      return refused;
    }
    RouteTable.Match match = current.table().match(exchange);
    if (match == null) {
      return Failure.noRoute(exchange.host() + exchange.path());
    }
    exchange.pool = current.pools().get(match.service());
    exchange.prefix = match.pathPrefix();
    if (exchange.explain != null) {
      exchange.explain.route(match.service(), match.pathPrefix());
    }
    return null;
  }

  /**
   * What routing must not be fooled by, checked on HTTP/2 as on HTTP/1.x (whose framing the edge
   * guard has checked already): the path, normalised before it is matched, and on HTTP/2 a {@code
   * host} field that names another host than {@code :authority}.
   */
  private Failure vet(Exchange exchange) {
    HttpServerRequest request = exchange.request;
    try {
      exchange.target = RequestTarget.of(request.uri(), allowEncodedSeparators);
    } catch (RequestTarget.Refused refused) {
      return Failure.rejected(Rejection.PATH, refused.getMessage());
    }
    if (request.version() == HttpVersion.HTTP_2) {
      String host = request.headers().get(HttpHeaders.HOST);
      if (host != null
          && request.authority() != null
          && !host.equalsIgnoreCase(request.authority().toString())) {
        return Failure.rejected(Rejection.HOST, "the host field differs from :authority");
      }
    }
    return null;
  }
}
