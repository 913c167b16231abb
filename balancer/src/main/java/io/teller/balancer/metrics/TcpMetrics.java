package io.teller.balancer.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.teller.balancer.tcp.TcpStats;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The L4 listeners' figures ({@link TcpStats}) as Prometheus meters, read at scrape time: {@code
 * teller_tcp_connections_total{listener}}, {@code teller_tcp_open_connections{listener}}, {@code
 * teller_tcp_failed_connections_total{listener}}, {@code
 * teller_tcp_connect_failures_total{listener}}, {@code teller_tcp_bytes_total{listener,direction}}
 * ({@code to_instances}, {@code to_clients}) and {@code
 * teller_tcp_open_by_instance{listener,instance}}. Listeners and instances that appear later are
 * bound by the next {@link #bind} call.
 */
public final class TcpMetrics {

  private final MeterRegistry registry;
  private final TcpStats stats;
  private final Set<String> bound = ConcurrentHashMap.newKeySet();

  public TcpMetrics(MeterRegistry registry, TcpStats stats) {
    this.registry = registry;
    this.stats = stats;
  }

  /** Registers the meters of listeners and instances not bound yet. */
  public void bind() {
    stats
        .listeners()
        .forEach(
            (port, figures) -> {
              String listener = String.valueOf(port);
              if (bound.add(listener)) {
                Tags tags = Tags.of("listener", listener);
                counter("teller.tcp.connections", "Connections accepted", tags, figures.accepted);
                counter(
                    "teller.tcp.failed.connections",
                    "Connections closed without reaching an instance",
                    tags,
                    figures.failed);
                counter(
                    "teller.tcp.connect.failures",
                    "Attempts to reach an instance that failed",
                    tags,
                    figures.connectFailures);
                counter(
                    "teller.tcp.bytes",
                    "Bytes relayed",
                    tags.and("direction", "to_instances"),
                    figures.bytesToInstances);
                counter(
                    "teller.tcp.bytes",
                    "Bytes relayed",
                    tags.and("direction", "to_clients"),
                    figures.bytesToClients);
                Gauge.builder("teller.tcp.open.connections", figures.open, LongAdder::sum)
                    .description("Client connections open now")
                    .tags(tags)
                    .register(registry);
              }
              figures
                  .openByInstance()
                  .keySet()
                  .forEach(
                      instance -> {
                        if (bound.add(listener + "/" + instance)) {
                          Gauge.builder(
                                  "teller.tcp.open.by.instance",
                                  figures,
                                  f -> f.openByInstance().getOrDefault(instance, 0L))
                              .description("Connections open to an instance")
                              .tags("listener", listener, "instance", instance)
                              .register(registry);
                        }
                      });
            });
  }

  private void counter(String name, String description, Tags tags, LongAdder adder) {
    FunctionCounter.builder(name, adder, LongAdder::sum)
        .description(description)
        .tags(tags)
        .register(registry);
  }
}
