package io.teller.balancer.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.teller.balancer.routing.Routing;
import io.teller.balancer.routing.ServicePool;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * {@code teller_slow_start_factor{service,instance}}: for each instance of a service with a slow
 * start, the share of its weight this balancer gives it now (from the setting's minimum up to 1,
 * and 1 for an instance that is not eased in). Read at scrape time from the latest routing; the
 * gauges follow the routing's instances ({@link #bind}).
 */
public final class SlowStartMetrics {

  private final MeterRegistry registry;
  private final Supplier<Routing> routing;
  private final InstantSource clock;
  private final Map<String, Gauge> gauges = new HashMap<>();

  /**
   * @param routing the latest routing, read at each scrape
   */
  public SlowStartMetrics(MeterRegistry registry, Supplier<Routing> routing, InstantSource clock) {
    this.registry = registry;
    this.routing = routing;
    this.clock = clock;
  }

  /**
   * Adds the gauges of the instances {@code next} routes to in services with a slow start and
   * removes the others. Called with each new routing, from one thread at a time.
   */
  public synchronized void bind(Routing next) {
    Set<String> current = new HashSet<>();
    next.pools()
        .forEach(
            (service, pool) -> {
              if (pool.service().slowStart() == null) {
                return;
              }
              for (String id : pool.endpoints().keySet()) {
                String key = service + "/" + id;
                current.add(key);
                gauges.computeIfAbsent(
                    key,
                    k ->
                        Gauge.builder("teller.slow.start.factor", () -> factor(service, id))
                            .description(
                                "The share of its weight an instance gets now under its service's"
                                    + " slow start")
                            .tags("service", service, "instance", id)
                            .register(registry));
              }
            });
    gauges
        .entrySet()
        .removeIf(
            entry -> {
              if (current.contains(entry.getKey())) {
                return false;
              }
              registry.remove(entry.getValue());
              return true;
            });
  }

  private double factor(String service, String id) {
    ServicePool pool = routing.get().pools().get(service);
    return pool == null || !pool.endpoints().containsKey(id)
        ? Double.NaN
        : pool.slowStartFactor(id, clock.millis());
  }
}
