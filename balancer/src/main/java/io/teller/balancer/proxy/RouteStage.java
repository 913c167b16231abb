package io.teller.balancer.proxy;

import io.teller.balancer.resilience.Failure;
import io.teller.balancer.routing.RouteTable;
import io.teller.balancer.routing.Routing;
import java.util.function.Supplier;

/**
 * The first stage: finds the service a request is for in the latest {@link Routing}, a local read.
 * A balancer that does not hold the registry's state yet cannot tell "no route" from "not known
 * yet", so it says so ({@code 503}, retry in a second) rather than {@code 404}.
 */
final class RouteStage {

  private final Supplier<Routing> routing;

  RouteStage(Supplier<Routing> routing) {
    this.routing = routing;
  }

  /** Routes {@code exchange} to its service's pool; returns why it cannot, or null. */
  Failure route(Exchange exchange) {
    Routing current = routing.get();
    if (!current.ready()) {
      return Failure.notReady();
    }
    RouteTable.Match match = current.table().match(exchange);
    if (match == null) {
      return Failure.noRoute(exchange.host() + exchange.path());
    }
    exchange.pool = current.pools().get(match.service());
    exchange.prefix = match.pathPrefix();
    return null;
  }
}
