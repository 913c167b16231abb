package io.teller.balancer.tcp;

import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The L4 figures, per listener port: connections accepted, open and refused, bytes each way, and
 * open connections per instance. Counters are {@link LongAdder}s, written from every event loop
 * without contention; a metrics binder (Prometheus, later) reads them through {@link #listeners()}.
 * A listener's figures outlive the listener, so a port that closes and opens again keeps counting.
 */
public final class TcpStats {

  private final ConcurrentHashMap<Integer, Listener> listeners = new ConcurrentHashMap<>();

  /** The figures of one listener port. */
  public static final class Listener {
    /** Connections accepted from clients. */
    public final LongAdder accepted = new LongAdder();

    /** Connections open now (client side). */
    public final LongAdder open = new LongAdder();

    /** Connections closed without reaching an instance: no service, no instance, none reachable. */
    public final LongAdder failed = new LongAdder();

    /** Attempts to reach an instance that failed (another was tried if any was left). */
    public final LongAdder connectFailures = new LongAdder();

    /** Bytes from clients to instances. */
    public final LongAdder bytesToInstances = new LongAdder();

    /** Bytes from instances to clients. */
    public final LongAdder bytesToClients = new LongAdder();

    private final ConcurrentHashMap<String, LongAdder> openByInstance = new ConcurrentHashMap<>();

    /** The counter of connections open to {@code instance}. */
    LongAdder instance(String instance) {
      return openByInstance.computeIfAbsent(instance, id -> new LongAdder());
    }

    /** Open connections per instance id (instances seen once stay, at 0). */
    public Map<String, Long> openByInstance() {
      Map<String, Long> copy = new TreeMap<>();
      openByInstance.forEach((id, count) -> copy.put(id, count.sum()));
      return copy;
    }

    JsonObject toJson() {
      JsonObject instances = new JsonObject();
      openByInstance().forEach(instances::put);
      return new JsonObject()
          .put("accepted", accepted.sum())
          .put("open", open.sum())
          .put("failed", failed.sum())
          .put("connectFailures", connectFailures.sum())
          .put("bytesToInstances", bytesToInstances.sum())
          .put("bytesToClients", bytesToClients.sum())
          .put("openByInstance", instances);
    }
  }

  /** The figures of {@code port}, made on first use. */
  public Listener listener(int port) {
    return listeners.computeIfAbsent(port, p -> new Listener());
  }

  /** Every port's figures, by port. */
  public Map<Integer, Listener> listeners() {
    return new TreeMap<>(listeners);
  }

  /**
   * The figures as JSON for the admin's {@code /tcp}, with what each listening port is for.
   *
   * @param specs the listeners open now, by port
   */
  public JsonObject toJson(Map<Integer, ListenerSpec> specs) {
    JsonObject out = new JsonObject();
    Map<Integer, Listener> all = listeners();
    specs.keySet().forEach(port -> all.computeIfAbsent(port, this::listener));
    all.forEach(
        (port, figures) -> {
          ListenerSpec spec = specs.get(port);
          JsonObject json = figures.toJson().put("listening", spec != null);
          if (spec != null) {
            json.put("kind", spec.kind().name().toLowerCase(java.util.Locale.ROOT))
                .put("origin", spec.origin());
            if (spec.service() != null) {
              json.put("service", spec.service());
            }
            if (spec.strategy() != null) {
              json.put("strategy", spec.strategy());
            }
          }
          out.put(String.valueOf(port), json);
        });
    return new JsonObject().put("listeners", out);
  }
}
