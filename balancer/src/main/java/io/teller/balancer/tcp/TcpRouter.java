package io.teller.balancer.tcp;

import io.teller.balancer.routing.Routing;
import io.teller.balancer.strategy.LoadCounts;
import io.vertx.core.Context;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the L4 routes current: builds new {@link TcpRoutes} from each new L7 {@link Routing} (the
 * same registry view, strategies and counts), and when the set of listeners changes, tells every
 * {@link TcpVerticle} on its own event loop so that each opens and closes its listeners. The
 * connection path reads {@link #routes()}, one volatile read, and nothing else.
 */
public final class TcpRouter {

  private static final Logger LOG = LoggerFactory.getLogger("teller.tcp");

  private final List<ListenerSpec> configured;
  private final Set<Integer> reserved;
  private final LoadCounts local;
  private final LoadCounts shared;
  private final TcpStats stats = new TcpStats();
  private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();

  /** Ports that failed to bind, so that the event loops log it once between successes. */
  private final Set<Integer> bindFailures = ConcurrentHashMap.newKeySet();

  private volatile TcpRoutes routes;

  /**
   * Conflicts already logged, so that each is logged once while it lasts (view's event loop only).
   */
  private Set<String> conflicts = Set.of();

  private record Subscriber(Context context, Consumer<TcpRoutes> onChange) {}

  /**
   * @param configured the listeners of {@code tcp.listeners}
   * @param reserved the balancer's other ports, which a service's tcpPort may not take
   * @param local this balancer's own in-flight counts
   * @param shared every balancer's in-flight counts
   */
  public TcpRouter(
      List<ListenerSpec> configured, Set<Integer> reserved, LoadCounts local, LoadCounts shared) {
    this.configured = List.copyOf(configured);
    this.reserved = Set.copyOf(reserved);
    this.local = local;
    this.shared = shared;
    this.routes = TcpRoutes.configuredOnly(configured);
  }

  /** The latest routes. */
  public TcpRoutes routes() {
    return routes;
  }

  /** The L4 figures. */
  public TcpStats stats() {
    return stats;
  }

  /** Ports whose failure to bind has been logged. */
  Set<Integer> bindFailures() {
    return bindFailures;
  }

  /** Builds the routes of a new routing; called on the registry view's event loop. */
  public void update(Routing routing) {
    TcpRoutes previous = routes;
    Set<String> seen = new HashSet<>();
    TcpRoutes next =
        TcpRoutes.build(
            routing,
            configured,
            reserved,
            previous,
            local,
            shared,
            conflict -> {
              seen.add(conflict);
              if (!conflicts.contains(conflict)) {
                LOG.warn(conflict);
              }
            });
    conflicts = seen;
    routes = next;
    Map<Integer, ListenerSpec> before = previous.specs();
    Map<Integer, ListenerSpec> after = next.specs();
    if (!before.equals(after)) {
      after.forEach(
          (port, spec) -> {
            if (!spec.equals(before.get(port))
                && spec.origin().equals(ListenerSpec.FROM_REGISTRY)) {
              LOG.info(
                  "TCP listener on port {} for service {} (its tcpPort)", port, spec.service());
            }
          });
      before.forEach(
          (port, spec) -> {
            if (!after.containsKey(port)) {
              LOG.info(
                  "TCP listener on port {} ({}) closes; open connections may go on for {} ms",
                  port,
                  spec,
                  spec.drainMillis());
            }
          });
      subscribers.forEach(s -> s.context().runOnContext(v -> s.onChange().accept(next)));
    }
  }

  /**
   * Tells {@code onChange}, on {@code context}, of every change of the listeners from now on.
   *
   * @return undoes the subscription
   */
  public Runnable subscribe(Context context, Consumer<TcpRoutes> onChange) {
    Subscriber subscriber = new Subscriber(context, onChange);
    subscribers.add(subscriber);
    return () -> subscribers.remove(subscriber);
  }
}
