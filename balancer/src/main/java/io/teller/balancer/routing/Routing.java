package io.teller.balancer.routing;

import java.util.Map;

/**
 * Everything the request path needs, at one registry revision: the route table and each service's
 * pool. Immutable; replaced as a whole.
 *
 * @param table matches requests to services
 * @param pools each service's pool, by name
 * @param revision the registry revision this was built from
 */
public record Routing(RouteTable table, Map<String, ServicePool> pools, long revision) {

  public Routing {
    pools = Map.copyOf(pools);
  }

  public static Routing empty() {
    return new Routing(RouteTable.empty(), Map.of(), 0);
  }
}
