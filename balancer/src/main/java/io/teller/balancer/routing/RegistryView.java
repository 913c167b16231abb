package io.teller.balancer.routing;

import io.teller.balancer.strategy.Endpoint;
import io.teller.balancer.strategy.LoadCounts;
import io.teller.balancer.strategy.Ramp;
import io.teller.balancer.strategy.Strategies;
import io.teller.balancer.strategy.Strategy;
import io.teller.balancer.strategy.StrategyOptions;
import io.teller.common.model.Change;
import io.teller.common.model.Instance;
import io.teller.common.model.RegistryContract;
import io.teller.common.model.Route;
import io.teller.common.model.Service;
import io.teller.common.model.SlowStart;
import io.teller.common.model.Snapshot;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The balancer's local copy of the registry: applies every published change, reconciles against the
 * registry's full snapshot at start and periodically (so a missed change heals by itself), and
 * turns the state into a new immutable {@link Routing} after each batch of changes. The request
 * path only ever reads the latest {@code Routing}; it never asks the registry anything.
 *
 * <p>Confined to the event loop of the verticle that starts it. A change is applied only if it is
 * newer than what is known of that service or instance, so events and snapshots may arrive in any
 * order.
 */
public final class RegistryView {

  private static final Logger LOG = LoggerFactory.getLogger("teller.balancer");
  private static final long REBUILD_DELAY_MS = 5;
  private static final long SNAPSHOT_TIMEOUT_MS = 5_000;

  private final Vertx vertx;
  private final InstantSource clock;
  private final LoadCounts localCounts;
  private final LoadCounts sharedCounts;
  private final long reconcileMillis;
  private final Consumer<Routing> publish;
  private final Map<String, Service> services = new HashMap<>();
  private final Map<String, Instance> instances = new HashMap<>();

  /** Revision at which a service or instance was removed, so an older "stored" cannot revive it. */
  private final Map<String, Long> removedAt = new HashMap<>();

  /**
   * Instances missing from the last snapshot, kept for their TTL since: id -> when first missed.
   */
  private final Map<String, Long> unconfirmedSince = new HashMap<>();

  /**
   * When this balancer lets an instance back after a passive ejection (epoch ms), by id: a service
   * with slow start eases it in again from then. Local: other balancers did not eject it.
   */
  private final Map<String, Long> returnsAt = new HashMap<>();

  private final Map<String, Strategy> strategies = new HashMap<>();
  private MessageConsumer<JsonObject> consumer;
  private long reconcileTimer = -1;
  private boolean rebuildScheduled;
  private boolean snapshotHeld;
  private boolean registryLost;
  private long revision;
  private boolean changed;
  private Routing last = Routing.waiting();

  /**
   * @param localCounts this balancer's own in-flight counts
   * @param sharedCounts its own plus every other balancer's (for services with sharedCounts on)
   * @param reconcileMillis how often to reconcile against the full snapshot
   * @param publish receives each new routing (called on this view's event loop)
   */
  public RegistryView(
      Vertx vertx,
      LoadCounts localCounts,
      LoadCounts sharedCounts,
      long reconcileMillis,
      Consumer<Routing> publish) {
    this(vertx, InstantSource.system(), localCounts, sharedCounts, reconcileMillis, publish);
  }

  /**
   * @param clock the time slow starts ramp by, epoch ms as the registry stamps them
   */
  RegistryView(
      Vertx vertx,
      InstantSource clock,
      LoadCounts localCounts,
      LoadCounts sharedCounts,
      long reconcileMillis,
      Consumer<Routing> publish) {
    this.vertx = vertx;
    this.clock = clock;
    this.localCounts = localCounts;
    this.sharedCounts = sharedCounts;
    this.reconcileMillis = reconcileMillis;
    this.publish = publish;
  }

  /** Subscribes to changes and asks for the first snapshot; does not wait for it. */
  public Future<Void> start() {
    consumer =
        vertx
            .eventBus()
            .consumer(RegistryContract.CHANGES, message -> apply(Change.fromJson(message.body())));
    reconcileTimer = vertx.setPeriodic(reconcileMillis, t -> reconcile());
    return consumer.completion().onSuccess(v -> reconcile());
  }

  public Future<Void> stop() {
    vertx.cancelTimer(reconcileTimer);
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }

  /** Whether a full snapshot has been received at least once. */
  public boolean holdsSnapshot() {
    return snapshotHeld;
  }

  /** Asks the registry for its whole state and merges it in. */
  public void reconcile() {
    vertx
        .eventBus()
        .<JsonObject>request(
            RegistryContract.SNAPSHOT,
            new JsonObject(),
            new DeliveryOptions().setSendTimeout(SNAPSHOT_TIMEOUT_MS))
        .onSuccess(
            reply -> {
              if (registryLost) {
                LOG.info("registry reachable again; reconciled");
                registryLost = false;
              }
              apply(Snapshot.fromJson(reply.body()));
            })
        .onFailure(
            e -> {
              if (!registryLost) {
                LOG.warn(
                    "registry snapshot unavailable ({}); serving from what is known (revision {})",
                    e.getMessage(),
                    revision);
                registryLost = true;
              }
              if (!snapshotHeld) {
                vertx.setTimer(1_000, t -> reconcile());
              }
            });
  }

  void apply(Change change) {
    String key =
        key(change.kind(), change.kind().equals(Change.SERVICE) ? change.service() : change.id());
    if (change.revision() <= known(key)) {
      return;
    }
    if (change.kind().equals(Change.INSTANCE)) {
      unconfirmedSince.remove(change.id());
    }
    if (change.removed()) {
      remove(key);
      removedAt.put(key, change.revision());
    } else if (change.kind().equals(Change.SERVICE)) {
      services.put(change.service(), Service.fromStored(change.data()));
      removedAt.remove(key);
    } else {
      instances.put(change.id(), Instance.fromJson(change.data()));
      removedAt.remove(key);
    }
    revision = Math.max(revision, change.revision());
    changed = true;
    scheduleRebuild();
  }

  void apply(Snapshot snapshot) {
    Map<String, Service> snapshotServices = new HashMap<>();
    snapshot.services().forEach(s -> snapshotServices.put(s.name(), s));
    Map<String, Instance> snapshotInstances = new HashMap<>();
    snapshot.instances().forEach(i -> snapshotInstances.put(i.id(), i));

    for (Service s : snapshotServices.values()) {
      if (s.revision() > known(key(Change.SERVICE, s.name()))) {
        services.put(s.name(), s);
        removedAt.remove(key(Change.SERVICE, s.name()));
        changed = true;
      }
    }
    for (Instance i : snapshotInstances.values()) {
      if (i.revision() > known(key(Change.INSTANCE, i.id()))) {
        instances.put(i.id(), i);
        removedAt.remove(key(Change.INSTANCE, i.id()));
        changed = true;
      }
    }
    // Gone from the snapshot and not changed since it was taken: removed while we missed it.
    changed |=
        services
            .values()
            .removeIf(
                s ->
                    !snapshotServices.containsKey(s.name()) && s.revision() <= snapshot.revision());
    changed |= forgetMissing(snapshotServices, snapshotInstances, snapshot.revision());
    removedAt.values().removeIf(r -> r <= snapshot.revision());
    revision = Math.max(revision, snapshot.revision());
    if (!snapshotHeld) {
      LOG.info(
          "registry snapshot at revision {}: {} services, {} instances",
          snapshot.revision(),
          services.size(),
          instances.size());
    }
    boolean first = !snapshotHeld;
    snapshotHeld = true;
    // The first snapshot is published even when it changes nothing (an empty registry): the
    // request path answers 503 until it holds the registry's state, and 404 only after.
    if (changed || first) {
      scheduleRebuild();
    }
  }

  /**
   * Removes the instances a snapshot no longer holds, except self-registered ones (with a TTL) of a
   * service it still holds: those are kept, unconfirmed, for their TTL. A registry that restarted
   * holds none of them until their backends register again (at their next heartbeat, within a TTL);
   * dropping them at once would leave their service without instances, every request a {@code 503},
   * in the meantime. An instance removed in the registry is removed here by its change event, at
   * once; only one that vanished from a snapshot waits.
   */
  private boolean forgetMissing(
      Map<String, Service> snapshotServices,
      Map<String, Instance> snapshotInstances,
      long snapshotRevision) {
    long now = clock.millis();
    boolean removed = false;
    var it = instances.values().iterator();
    while (it.hasNext()) {
      Instance i = it.next();
      if (snapshotInstances.containsKey(i.id())) {
        unconfirmedSince.remove(i.id());
        continue;
      }
      if (i.revision() > snapshotRevision) {
        continue;
      }
      if (i.ttlSeconds() != null && snapshotServices.containsKey(i.service())) {
        long since = unconfirmedSince.computeIfAbsent(i.id(), id -> now);
        long until = since + i.ttlSeconds() * 1000L;
        if (now < until) {
          // Looked at again when its time is up, if no snapshot or change comes first.
          vertx.setTimer(until - now + 1, t -> reconcileUnconfirmed());
          continue;
        }
      }
      unconfirmedSince.remove(i.id());
      it.remove();
      removed = true;
    }
    return removed;
  }

  /** Drops the unconfirmed instances whose time is up (none came back). */
  private void reconcileUnconfirmed() {
    long now = clock.millis();
    boolean removed = false;
    var it = unconfirmedSince.entrySet().iterator();
    while (it.hasNext()) {
      var entry = it.next();
      Instance i = instances.get(entry.getKey());
      if (i == null) {
        it.remove();
      } else if (i.ttlSeconds() == null || now >= entry.getValue() + i.ttlSeconds() * 1000L) {
        instances.remove(i.id());
        it.remove();
        removed = true;
      }
    }
    if (removed) {
      changed = true;
      scheduleRebuild();
    }
  }

  private long known(String key) {
    Long removed = removedAt.get(key);
    if (removed != null) {
      return removed;
    }
    if (key.startsWith("s:")) {
      Service s = services.get(key.substring(2));
      return s == null ? 0 : s.revision();
    }
    Instance i = instances.get(key.substring(2));
    return i == null ? 0 : i.revision();
  }

  private void remove(String key) {
    if (key.startsWith("s:")) {
      services.remove(key.substring(2));
    } else {
      instances.remove(key.substring(2));
    }
  }

  /**
   * Records that this balancer ejected an instance until {@code untilMillis}: if its service has a
   * slow start, the instance is eased in again from then, and the routing is rebuilt with it.
   */
  public void ejected(String id, long untilMillis) {
    Instance instance = instances.get(id);
    Service service = instance == null ? null : services.get(instance.service());
    if (service == null || service.slowStart() == null) {
      return;
    }
    returnsAt.put(id, untilMillis);
    changed = true;
    scheduleRebuild();
  }

  private static String key(String kind, String name) {
    return (kind.equals(Change.SERVICE) ? "s:" : "i:") + name;
  }

  private void scheduleRebuild() {
    if (!rebuildScheduled) {
      rebuildScheduled = true;
      // Coalesces a burst of changes (a registration storm) into one rebuild.
      vertx.setTimer(
          REBUILD_DELAY_MS,
          t -> {
            rebuildScheduled = false;
            changed = false;
            last = build();
            publish.accept(last);
          });
    }
  }

  /**
   * Builds the routing of the current state. A service whose definition and endpoints did not
   * change keeps its pool, so its picker's rotation goes on undisturbed by other services' changes.
   */
  Routing build() {
    Map<String, List<Route>> routes = new LinkedHashMap<>();
    Map<String, List<Instance>> eligible = new HashMap<>();
    for (Instance instance : instances.values()) {
      if (instance.takesTraffic() && services.containsKey(instance.service())) {
        eligible.computeIfAbsent(instance.service(), k -> new ArrayList<>()).add(instance);
      }
    }
    long now = clock.millis();
    // A return from ejection matters for one window at most (an hour at most).
    returnsAt
        .entrySet()
        .removeIf(e -> !instances.containsKey(e.getKey()) || now - e.getValue() > 3_600_000);
    Map<String, ServicePool> pools = new HashMap<>();
    for (Service service : services.values()) {
      routes.put(service.name(), service.routes());
      List<Endpoint> list = endpoints(service, eligible.getOrDefault(service.name(), List.of()));
      list.sort(java.util.Comparator.comparing(Endpoint::id));
      Map<String, Endpoint> byId = new LinkedHashMap<>();
      list.forEach(e -> byId.put(e.id(), e));
      ServicePool previous = last.pools().get(service.name());
      pools.put(
          service.name(),
          previous != null
                  && previous.service().equals(service)
                  && previous.endpoints().equals(byId)
              ? previous
              : new ServicePool(
                  service,
                  byId,
                  strategy(service)
                      .picker(list, service.sharedCounts() ? sharedCounts : localCounts)));
    }
    return new Routing(RouteTable.build(routes), pools, revision, snapshotHeld);
  }

  /**
   * The endpoints of {@code service}'s eligible instances. With a slow start, each ramps from when
   * the registry made it eligible or, later, when this balancer let it back after an ejection,
   * unless it is part of the service's cold start ({@link SlowStart#eases}).
   */
  private List<Endpoint> endpoints(Service service, List<Instance> eligible) {
    SlowStart slowStart = service.slowStart();
    long first = Long.MAX_VALUE;
    for (Instance instance : eligible) {
      first = Math.min(first, SlowStart.eligibleMillis(instance));
    }
    List<Endpoint> endpoints = new ArrayList<>(eligible.size());
    for (Instance instance : eligible) {
      long start =
          Math.max(SlowStart.eligibleMillis(instance), returnsAt.getOrDefault(instance.id(), 0L));
      long rampFrom = slowStart != null && slowStart.eases(start, first) ? start : Endpoint.NO_RAMP;
      endpoints.add(
          new Endpoint(
              instance.id(), instance.host(), instance.port(), instance.weight(), rampFrom));
    }
    return endpoints;
  }

  private Strategy strategy(Service service) {
    String key = service.strategy() + "|" + service.hashOn() + "|" + service.slowStart();
    return strategies.computeIfAbsent(
        key,
        k ->
            Strategies.byName(
                service.strategy(),
                new StrategyOptions(Objects.requireNonNullElse(service.hashOn(), "client-address")),
                Ramp.of(service.slowStart(), clock)));
  }
}
