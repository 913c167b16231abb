package io.teller.balancer.tcp;

import io.teller.balancer.routing.Routing;
import io.teller.balancer.routing.ServicePool;
import io.teller.balancer.strategy.Endpoint;
import io.teller.balancer.strategy.LoadCounts;
import io.teller.balancer.strategy.Picker;
import io.teller.balancer.strategy.Ramp;
import io.teller.balancer.strategy.Strategies;
import io.teller.balancer.strategy.StrategyOptions;
import io.teller.common.model.Service;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * What the L4 path needs at one registry revision: the listeners the balancer should have, by port,
 * and for each the way from a connection to a service's pool and picker. Immutable; built from each
 * new {@link Routing} and replaced as a whole, as the L7 routing is.
 *
 * @param listeners every listener, by port
 * @param pools every service's pool, by name
 * @param sni the server-name table of SNI listeners
 */
public record TcpRoutes(Map<Integer, Listener> listeners, Map<String, Target> pools, SniTable sni) {

  /** Where a connection of a service goes: the service's pool, and the picker to use on it. */
  public record Target(ServicePool pool, Picker picker, String strategy) {}

  /** A listener and, for a one-service listener, its target (null while the service is unknown). */
  public record Listener(ListenerSpec spec, Target target) {}

  public TcpRoutes {
    listeners = Map.copyOf(listeners);
    pools = Map.copyOf(pools);
  }

  /** Only the configured listeners, before the registry's state arrives. */
  public static TcpRoutes configuredOnly(List<ListenerSpec> configured) {
    Map<Integer, Listener> listeners = new LinkedHashMap<>();
    configured.forEach(spec -> listeners.put(spec.port(), new Listener(spec, null)));
    return new TcpRoutes(listeners, Map.of(), SniTable.build(List.of()));
  }

  /** The listener specs by port. */
  public Map<Integer, ListenerSpec> specs() {
    Map<Integer, ListenerSpec> specs = new TreeMap<>();
    listeners.forEach((port, listener) -> specs.put(port, listener.spec()));
    return specs;
  }

  /**
   * Builds the routes of {@code routing}.
   *
   * @param configured the listeners from configuration; they win over a service's tcpPort
   * @param reserved ports the balancer uses for other things (HTTPS, HTTP, admin)
   * @param previous the routes before, whose pickers are kept where the pool did not change (so a
   *     rotation goes on undisturbed)
   * @param local this balancer's own counts, for services with sharedCounts off
   * @param shared every balancer's counts
   * @param conflict told once per build of each registry tcpPort that cannot be had, and why
   */
  public static TcpRoutes build(
      Routing routing,
      List<ListenerSpec> configured,
      Set<Integer> reserved,
      TcpRoutes previous,
      LoadCounts local,
      LoadCounts shared,
      Consumer<String> conflict) {
    Map<String, Target> pools = new HashMap<>();
    routing
        .pools()
        .forEach(
            (name, pool) ->
                pools.put(name, new Target(pool, pool.picker(), pool.service().strategy())));

    Map<Integer, Listener> listeners = new LinkedHashMap<>();
    for (ListenerSpec spec : configured) {
      listeners.put(
          spec.port(),
          new Listener(
              spec,
              spec.kind() == ListenerSpec.Kind.SNI
                  ? null
                  : target(spec, pools.get(spec.service()), previous, local, shared)));
    }
    routing.pools().values().stream()
        .map(ServicePool::service)
        .filter(service -> service.tcpPort() != null)
        .sorted(Comparator.comparing(Service::name))
        .forEach(
            service -> {
              int port = service.tcpPort();
              Listener taken = listeners.get(port);
              if (taken != null) {
                conflict.accept(
                    "service "
                        + service.name()
                        + " asks for TCP port "
                        + port
                        + ", which tcp.listeners gives to "
                        + taken.spec()
                        + "; the configured listener stays");
              } else if (reserved.contains(port)) {
                conflict.accept(
                    "service "
                        + service.name()
                        + " asks for TCP port "
                        + port
                        + ", which the balancer uses for HTTP(S) or admin; no TCP listener there");
              } else {
                listeners.put(
                    port,
                    new Listener(
                        ListenerSpec.fromRegistry(port, service.name(), service.drainTimeoutMs()),
                        pools.get(service.name())));
              }
            });
    return new TcpRoutes(
        listeners,
        pools,
        SniTable.build(routing.pools().values().stream().map(ServicePool::service).toList()));
  }

  /**
   * The target of a configured one-service listener: the service's own picker, or one of the
   * listener's strategy.
   */
  private static Target target(
      ListenerSpec spec, Target own, TcpRoutes previous, LoadCounts local, LoadCounts shared) {
    if (own == null || spec.strategy() == null || spec.strategy().equals(own.strategy())) {
      return own;
    }
    Listener before = previous == null ? null : previous.listeners().get(spec.port());
    if (before != null
        && before.target() != null
        && before.target().pool() == own.pool()
        && Objects.equals(before.target().strategy(), spec.strategy())) {
      return before.target();
    }
    Service service = own.pool().service();
    List<Endpoint> endpoints = new ArrayList<>(own.pool().endpoints().values());
    endpoints.sort(Comparator.comparing(Endpoint::id));
    Picker picker =
        Strategies.byName(
                spec.strategy(),
                new StrategyOptions(
                    Objects.requireNonNullElse(service.hashOn(), Service.DEFAULT_HASH_ON)),
                Ramp.of(service.slowStart(), InstantSource.system()))
            .picker(endpoints, service.sharedCounts() ? shared : local);
    return new Target(own.pool(), picker, spec.strategy());
  }
}
