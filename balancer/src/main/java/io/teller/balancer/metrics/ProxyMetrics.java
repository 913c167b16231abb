package io.teller.balancer.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.teller.balancer.strategy.LoadCounts;
import io.teller.common.load.TrafficReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.IntSupplier;

/**
 * The balancer's request-path meters, in Prometheus terms:
 *
 * <ul>
 *   <li>{@code teller_requests_total{service,instance,status_class}}: answers by status class
 *       ({@code instance="none"} when the balancer answered itself, e.g. no route);
 *   <li>{@code teller_request_duration_seconds{service}}: a latency histogram;
 *   <li>{@code teller_in_flight{service,instance}}: this balancer's requests and connections open
 *       per instance;
 *   <li>{@code teller_retries_total{service,outcome}}: retries made ({@code outcome="sent"}) and
 *       refused by the retry budget ({@code outcome="over_budget"});
 *   <li>{@code teller_ejections_total{service,instance}}: passive ejections;
 *   <li>{@code teller_upstream_failures_total{service,instance,kind}}: failures that are the
 *       instance's fault, by kind ({@code connect}, {@code timeout}, {@code reset}), on L7 and L4;
 *   <li>{@code teller_client_aborts_total{service}}: requests whose client left before the end of
 *       the answer (closed, reset its stream, stopped mid-upload), logged with status 499;
 *   <li>{@code teller_client_connections}: client connections open on the HTTP(S) listeners.
 * </ul>
 *
 * Meters are looked up in maps keyed by service and instance, so the request path never builds
 * tags; {@link #retainOnly} drops the meters of instances that left.
 */
public final class ProxyMetrics {

  /** Why an instance gave no answer. */
  public enum FailureKind {
    CONNECT,
    TIMEOUT,
    RESET;

    final String label = name().toLowerCase(java.util.Locale.ROOT);
  }

  /** For answers the balancer gave without any instance (no route, no instance available). */
  public static final String NONE = "none";

  private static final Duration[] BUCKETS = {
    Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
    Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
    Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
    Duration.ofSeconds(10), Duration.ofSeconds(30)
  };

  private final MeterRegistry registry;
  private final LoadCounts inFlight;
  private final ConcurrentHashMap<String, ServiceMeters> services = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, InstanceMeters> instances = new ConcurrentHashMap<>();
  private final IntSupplier clientConnections;

  /**
   * @param registry where the meters live
   * @param inFlight this balancer's open requests per instance, read by the in-flight gauges
   * @param clientConnections the client connections open now on the HTTPS and HTTP listeners: the
   *     counts the edge keeps for its connection cap ({@code EdgeGuard}), read rather than counted
   *     again, because a listener has one connection handler and the edge's is it
   */
  public ProxyMetrics(MeterRegistry registry, LoadCounts inFlight, IntSupplier clientConnections) {
    this.registry = registry;
    this.inFlight = inFlight;
    this.clientConnections = clientConnections;
    Gauge.builder("teller.client.connections", clientConnections, IntSupplier::getAsInt)
        .description("Client connections open on the HTTPS and HTTP listeners")
        .register(registry);
  }

  /** Client connections open now on the HTTPS and HTTP listeners. */
  public long clientConnections() {
    return clientConnections.getAsInt();
  }

  /** The registry these meters live in. */
  public MeterRegistry registry() {
    return registry;
  }

  /**
   * Counts one answer to a client and its duration. This is also where the per-instance traffic
   * that the dashboard shows is recorded (a {@link TrafficCell}: two atomic increments more).
   */
  public void answered(String service, String instance, int status, long durationNanos) {
    ServiceMeters meters = service(service);
    meters.duration.record(durationNanos, TimeUnit.NANOSECONDS);
    InstanceMeters byInstance = instance(service, instance);
    byInstance.byStatusClass[statusClass(status)].increment();
    if (byInstance.traffic != null) {
      byInstance.traffic.answered(status, durationNanos);
    }
  }

  /** Counts a retry that was sent to another instance. */
  public void retried(String service) {
    service(service).retries.increment();
  }

  /** Counts a retry that the retry budget refused. */
  public void retryOverBudget(String service) {
    service(service).overBudget.increment();
  }

  /** Counts a request whose client left before the end of its answer. */
  public void clientAborted(String service) {
    service(service).clientAborts.increment();
  }

  /** Counts a failure that is an instance's fault. */
  public void upstreamFailure(String service, String instance, FailureKind kind) {
    instance(service, instance).failures[kind.ordinal()].increment();
  }

  /** Counts a passive ejection. */
  public void ejected(String service, String instance) {
    InstanceMeters meters = instance(service, instance);
    meters.ejections.increment();
    if (meters.traffic != null) {
      meters.traffic.ejected();
    }
  }

  /**
   * Takes every instance's traffic recorded since the last call (for the {@link TrafficReporter});
   * instances with none, and not ejected, are left out.
   *
   * @param ejectedAmong the ids, among those given, that are ejected now
   */
  public Map<String, TrafficReport.InstanceTraffic> takeTraffic(
      Function<Set<String>, Set<String>> ejectedAmong) {
    Set<String> ejected = ejectedAmong.apply(instances.keySet());
    Map<String, TrafficReport.InstanceTraffic> taken = new HashMap<>();
    instances
        .values()
        .forEach(
            meters -> {
              if (meters.traffic != null) {
                TrafficReport.InstanceTraffic traffic =
                    meters.traffic.take(ejected.contains(meters.instance));
                if (traffic != null) {
                  taken.put(meters.instance, traffic);
                }
              }
            });
    return taken;
  }

  /**
   * Keeps the meters of the instances the balancer routes to (their in-flight gauges appear even
   * before their first request) and removes those of instances that left.
   *
   * @param current service name to instance ids
   */
  public void retainOnly(Map<String, Set<String>> current) {
    current.forEach((service, ids) -> ids.forEach(id -> instance(service, id)));
    List<InstanceMeters> gone = new ArrayList<>();
    instances
        .values()
        .forEach(
            meters -> {
              Set<String> ids = current.get(meters.service);
              if (!meters.instance.equals(NONE)
                  && (ids == null || !ids.contains(meters.instance))
                  && inFlight.inFlight(meters.instance) == 0) {
                gone.add(meters);
              }
            });
    for (InstanceMeters meters : gone) {
      instances.remove(key(meters.service, meters.instance), meters);
      meters.all.forEach(registry::remove);
    }
  }

  private ServiceMeters service(String service) {
    ServiceMeters meters = services.get(service);
    return meters != null ? meters : services.computeIfAbsent(service, ServiceMeters::new);
  }

  private InstanceMeters instance(String service, String instance) {
    String key = key(service, instance);
    InstanceMeters meters = instances.get(key);
    return meters != null
        ? meters
        : instances.computeIfAbsent(key, k -> new InstanceMeters(service, instance));
  }

  private static String key(String service, String instance) {
    // Instance ids start with their service's name, so this is unique and cheap.
    return instance.equals(NONE) ? service + "/" : instance;
  }

  private static int statusClass(int status) {
    int hundreds = status / 100;
    return hundreds >= 1 && hundreds <= 5 ? hundreds - 1 : 4;
  }

  private final class ServiceMeters {
    final Timer duration;
    final Counter retries;
    final Counter overBudget;
    final Counter clientAborts;

    ServiceMeters(String service) {
      duration =
          Timer.builder("teller.request.duration")
              .description("Time from a request's arrival to the end of its answer")
              .tags("service", service)
              .serviceLevelObjectives(BUCKETS)
              .register(registry);
      retries =
          Counter.builder("teller.retries")
              .description("Retries to another instance")
              .tags("service", service, "outcome", "sent")
              .register(registry);
      overBudget =
          Counter.builder("teller.retries")
              .description("Retries to another instance")
              .tags("service", service, "outcome", "over_budget")
              .register(registry);
      clientAborts =
          Counter.builder("teller.client.aborts")
              .description("Requests whose client left before the end of the answer")
              .tags("service", service)
              .register(registry);
    }
  }

  private final class InstanceMeters {
    final String service;
    final String instance;
    final Counter[] byStatusClass = new Counter[5];
    final Counter[] failures = new Counter[FailureKind.values().length];
    final Counter ejections;
    final TrafficCell traffic;
    final List<Meter> all = new ArrayList<>();

    InstanceMeters(String service, String instance) {
      this.service = service;
      this.instance = instance;
      this.traffic = instance.equals(NONE) ? null : new TrafficCell();
      Tags tags = Tags.of("service", service, "instance", instance);
      for (int i = 0; i < 5; i++) {
        byStatusClass[i] =
            keep(
                Counter.builder("teller.requests")
                    .description("Answers to clients")
                    .tags(tags)
                    .tag("status_class", (i + 1) + "xx")
                    .register(registry));
      }
      for (FailureKind kind : FailureKind.values()) {
        failures[kind.ordinal()] =
            keep(
                Counter.builder("teller.upstream.failures")
                    .description("Failures that are an instance's fault")
                    .tags(tags)
                    .tag("kind", kind.label)
                    .register(registry));
      }
      ejections =
          keep(
              Counter.builder("teller.ejections")
                  .description("Passive ejections")
                  .tags(tags)
                  .register(registry));
      if (!instance.equals(NONE)) {
        keep(
            Gauge.builder("teller.in.flight", inFlight, counts -> counts.inFlight(instance))
                .description("This balancer's open requests and connections")
                .tags(tags)
                .register(registry));
      }
    }

    private <M extends Meter> M keep(M meter) {
      all.add(meter);
      return meter;
    }
  }
}
