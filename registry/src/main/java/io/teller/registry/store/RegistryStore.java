package io.teller.registry.store;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.query.Predicates;
import io.teller.common.model.Instance;
import io.teller.common.model.Service;
import io.teller.common.model.Snapshot;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.UnaryOperator;

/**
 * The registry's state in Hazelcast maps held by the registry (data) members, each entry with one
 * synchronous backup: services by name, instances by id, and the revision counter. Values are JSON
 * text, so that no class has to be shared with Hazelcast's serialization.
 *
 * <p>Every method blocks on the cluster: call it from a worker thread, never an event loop.
 */
public final class RegistryStore {

  static final String SERVICES = "teller.services";
  static final String INSTANCES = "teller.instances";
  static final String META = "teller.meta";
  private static final String REVISION = "revision";
  private static final String INCARNATION = "incarnation";
  private static final String RESTORED = "restored";
  private static final String TCP_PORTS = "tcpPorts";

  private final HazelcastInstance hazelcast;
  private final IMap<String, String> services;
  private final IMap<String, String> instances;
  private final IMap<String, Long> meta;
  private final OwnedInstances owned;
  // The services with a tcpPort as last read, and the stamp they were read at.
  private volatile TcpPorts tcpPorts;

  public RegistryStore(HazelcastInstance hazelcast) {
    this.hazelcast = hazelcast;
    this.services = hazelcast.getMap(SERVICES);
    this.instances = hazelcast.getMap(INSTANCES);
    this.meta = hazelcast.getMap(META);
    this.owned = new OwnedInstances(hazelcast, instances);
  }

  /** The last revision handed out (0 for a new registry). */
  public long revision() {
    Long value = meta.get(REVISION);
    return value == null ? 0 : value;
  }

  /** Hands out the next revision; safe even if two nodes briefly both think they lead. */
  public long nextRevision() {
    while (true) {
      Long current = meta.get(REVISION);
      if (current == null) {
        if (meta.putIfAbsent(REVISION, 1L) == null) {
          return 1;
        }
      } else if (meta.replace(REVISION, current, current + 1)) {
        return current + 1;
      }
    }
  }

  /**
   * Hands out {@code count} revisions at once, all above {@code floor} (after a restore: never
   * backwards); returns the first.
   */
  public long reserveRevisions(long floor, int count) {
    while (true) {
      Long current = meta.get(REVISION);
      long first = Math.max(current == null ? 0 : current, floor) + 1;
      boolean reserved =
          current == null
              ? meta.putIfAbsent(REVISION, first + count - 1) == null
              : meta.replace(REVISION, current, first + count - 1);
      if (reserved) {
        return first;
      }
    }
  }

  /**
   * Gives back the revisions after {@code lastUsed} of a block {@link #reserveRevisions} ended at
   * {@code reservedLast}, if none was reserved since (else they stay unused: revisions may have
   * gaps, never repeats). Returns whether they were given back.
   */
  public boolean returnRevisions(long reservedLast, long lastUsed) {
    return reservedLast == lastUsed || meta.replace(REVISION, reservedLast, lastUsed);
  }

  /**
   * This cluster run's random id, made by the first call after the registry nodes' maps were empty:
   * a node's copy on disk that followed a different run is from before the restart.
   */
  public long incarnation() {
    Long current = meta.get(INCARNATION);
    if (current != null) {
      return current;
    }
    long fresh = 1 + ThreadLocalRandom.current().nextLong(Long.MAX_VALUE - 1);
    Long raced = meta.putIfAbsent(INCARNATION, fresh);
    return raced == null ? fresh : raced;
  }

  /** The highest revision of a copy this cluster run restored from disk (0: none). */
  public long restoredRevision() {
    Long value = meta.get(RESTORED);
    return value == null ? 0 : value;
  }

  public void restoredRevision(long revision) {
    meta.set(RESTORED, revision);
  }

  public Optional<Service> service(String name) {
    return Optional.ofNullable(services.get(name)).map(s -> Service.fromStored(new JsonObject(s)));
  }

  public List<Service> services() {
    List<Service> all =
        new ArrayList<>(
            services.values().stream().map(s -> Service.fromStored(new JsonObject(s))).toList());
    all.sort(Comparator.comparing(Service::name));
    return all;
  }

  /**
   * The services with a {@code tcpPort}, as fresh as {@link #services()}: the instance guard needs
   * them for every registration, and reading every service each time cost more than the rest of a
   * registration. They are read again only when the stamp the writer moves on every change of a
   * {@code tcpPort} ({@link #tcpPortsChanged}) has moved since the last read, so a registration
   * costs one map read here.
   */
  public List<Service> tcpPortServices() {
    // The stamp first: a change written after this read moves it, and is read next time.
    Long stamp = meta.get(TCP_PORTS);
    if (stamp == null) {
      long fresh = ThreadLocalRandom.current().nextLong();
      Long raced = meta.putIfAbsent(TCP_PORTS, fresh);
      stamp = raced == null ? fresh : raced;
    }
    TcpPorts known = tcpPorts;
    if (known != null && stamp.equals(known.stamp())) {
      return known.services();
    }
    List<Service> services = services().stream().filter(s -> s.tcpPort() != null).toList();
    tcpPorts = new TcpPorts(stamp, services);
    return services;
  }

  /**
   * Moves the stamp that {@link #tcpPortServices} compares: call after storing or removing a
   * service whose {@code tcpPort} is set, was set, or changed. A random value, so that two nodes
   * that briefly both lead never set a value a reader has cached already.
   */
  public void tcpPortsChanged() {
    meta.set(TCP_PORTS, ThreadLocalRandom.current().nextLong());
  }

  private record TcpPorts(Long stamp, List<Service> services) {}

  public void putService(Service service) {
    services.set(service.name(), service.toJson().encode());
  }

  /** Stores {@code service} unless one of that name exists; returns the existing one if so. */
  public Optional<Service> putServiceIfAbsent(Service service) {
    return Optional.ofNullable(services.putIfAbsent(service.name(), service.toJson().encode()))
        .map(s -> Service.fromStored(new JsonObject(s)));
  }

  public boolean removeService(String name) {
    return services.remove(name) != null;
  }

  public Optional<Instance> instance(String id) {
    return Optional.ofNullable(instances.get(id)).map(s -> Instance.fromJson(new JsonObject(s)));
  }

  /** The instances of one service, sorted by id. */
  public List<Instance> instances(String service) {
    // Ids are "<service>-<10 hex>": select by key, without parsing other services' entries.
    Collection<String> values = instances.values(Predicates.like("__key", service + "-__________"));
    return sorted(values);
  }

  public List<Instance> allInstances() {
    return sorted(instances.values());
  }

  /**
   * The instances whose primary copy this member holds (what its maintenance looks after), in no
   * particular order. Called every few hundred milliseconds: kept by entry events, see {@link
   * OwnedInstances}.
   */
  public List<Instance> localInstances() {
    return owned.read();
  }

  /** Stops keeping {@link #localInstances()}; a later call starts again. */
  public void stopLocalInstances() {
    owned.close();
  }

  /** Stores {@code instance} unless its id exists; returns the existing one if so. */
  public Optional<Instance> putInstanceIfAbsent(Instance instance) {
    return Optional.ofNullable(instances.putIfAbsent(instance.id(), instance.toJson().encode()))
        .map(s -> Instance.fromJson(new JsonObject(s)));
  }

  public void putInstance(Instance instance) {
    instances.set(instance.id(), instance.toJson().encode());
  }

  public boolean removeInstance(String id) {
    return instances.remove(id) != null;
  }

  /**
   * Applies {@code change} to the instance atomically (compare-and-set, retried on a concurrent
   * write). Returns the new instance, or empty if there is no such instance or {@code change}
   * returned null (no change wanted).
   *
   * <p>Every change of an instance passes here, so this is where its {@code eligibleAt} is stamped
   * ({@link Instance#withEligibility}), whatever the change: slow start ramps from that moment.
   */
  public Optional<Instance> updateInstance(String id, UnaryOperator<Instance> change) {
    while (true) {
      String current = instances.get(id);
      if (current == null) {
        return Optional.empty();
      }
      Instance before = Instance.fromJson(new JsonObject(current));
      Instance updated = change.apply(before);
      if (updated == null) {
        return Optional.empty();
      }
      updated = updated.withEligibility(before);
      if (instances.replace(id, current, updated.toJson().encode())) {
        return Optional.of(updated);
      }
    }
  }

  /** The whole state; the revision is read first, so the content is at least that recent. */
  public Snapshot snapshot() {
    long revision = revision();
    return new Snapshot(revision, services(), allInstances());
  }

  /** The Hazelcast instance, for membership. */
  public HazelcastInstance hazelcast() {
    return hazelcast;
  }

  private static List<Instance> sorted(Collection<String> values) {
    List<Instance> list =
        new ArrayList<>(values.stream().map(s -> Instance.fromJson(new JsonObject(s))).toList());
    list.sort(Comparator.comparing(Instance::id));
    return list;
  }
}
