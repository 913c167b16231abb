package io.teller.balancer.routing;

import java.util.Map;

/**
 * Everything the request path needs, at one registry revision: the route table and each service's
 * pool. Immutable; replaced as a whole.
 *
 * @param table matches requests to services
 * @param pools each service's pool, by name
 * @param revision the registry revision this was built from
 * @param ready whether it holds the registry's state (a first full snapshot was applied): until
 *     then "no route" only means "not known yet"
 */
public record Routing(
    RouteTable table, Map<String, ServicePool> pools, long revision, boolean ready) {

  public Routing {
    pools = Map.copyOf(pools);
  }

  /** A routing built from the registry's state. */
  public Routing(RouteTable table, Map<String, ServicePool> pools, long revision) {
    this(table, pools, revision, true);
  }

  /** Nothing routed, and nothing known yet: what a balancer has before the registry's state. */
  public static Routing waiting() {
    return new Routing(RouteTable.empty(), Map.of(), 0, false);
  }

  /** Nothing routed, with the registry's state known (an empty registry). */
  public static Routing empty() {
    return new Routing(RouteTable.empty(), Map.of(), 0);
  }
}
