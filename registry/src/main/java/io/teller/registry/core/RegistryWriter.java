package io.teller.registry.core;

import io.teller.common.model.Change;
import io.teller.common.model.Instance;
import io.teller.common.model.InstanceStatus;
import io.teller.common.model.Service;
import io.teller.common.model.Snapshot;
import io.teller.common.model.ValidationException;
import io.teller.registry.store.LocalCopy;
import io.teller.registry.store.RegistryStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies every write to the registry, one at a time, on the leading registry node (the oldest data
 * member): each write takes the next revision, changes the maps and publishes its changes before
 * the next write starts, so that changes reach subscribers in revision order, cluster-wide.
 * Commands arrive as JSON over the event bus ({@link WriteCommands}).
 *
 * <p>Serial writes cap the registry near the speed of one node's map round trips (a few thousand
 * writes per second), which is far above what registrations and health changes need; heartbeats are
 * not writes (they change no revision) and go to the maps from any node.
 *
 * <p>A write's changes are on the leader's disk ({@link Durability}) before they are published and
 * before the write is answered, so an acknowledged write survives every registry node stopping. The
 * disk is a group commit: while one batch is fsynced, the next commands are applied, and their
 * changes share the next fsync.
 */
final class RegistryWriter {

  private static final Logger LOG = LoggerFactory.getLogger("teller.registry");

  private final Vertx vertx;
  private final RegistryStore store;
  private final Clock clock;
  private final Durability durability;

  RegistryWriter(Vertx vertx, RegistryStore store, Clock clock, Durability durability) {
    this.vertx = vertx;
    this.store = store;
    this.clock = clock;
    this.durability = durability;
  }

  /** Applies a command; must be called on the writer's own context so that ordering holds. */
  Future<JsonObject> apply(JsonObject command) {
    // Ordered: one command at a time, in arrival order, off the event loop. The next command may
    // start while this one's changes wait for the disk; answers and changes still go out in order.
    return vertx
        .executeBlocking(() -> applyBlocking(command), true)
        .compose(applied -> applied.durable().map(applied.reply()));
  }

  /** A command's reply, and when its changes are on disk and published. */
  private record Applied(JsonObject reply, Future<Void> durable) {}

  private Applied applyBlocking(JsonObject command) {
    String op = command.getString(WriteCommands.OP);
    List<Change> changes = new ArrayList<>();
    JsonObject reply =
        switch (op) {
          case WriteCommands.PUT_SERVICE -> putService(command, changes);
          case WriteCommands.DELETE_SERVICE -> deleteService(command, changes);
          case WriteCommands.REGISTER -> register(command, changes);
          case WriteCommands.DEREGISTER -> deregister(command, changes);
          case WriteCommands.SET_STATUS -> setStatus(command, changes);
          case WriteCommands.SET_WEIGHT -> setWeight(command, changes);
          case WriteCommands.REMOVE_IF -> removeIf(command, changes);
          case WriteCommands.MERGE_COPY -> mergeCopy(command, changes);
          default -> throw new IllegalArgumentException("unknown write command " + op);
        };
    if (changes.isEmpty()) {
      return new Applied(reply, Future.succeededFuture());
    }
    reply.put(
        WriteCommands.LAST_REVISION,
        changes.stream().mapToLong(Change::revision).max().orElseThrow());
    // Queued in revision order, from this ordered task.
    return new Applied(reply, durability.commit(changes));
  }

  /**
   * Takes in a registry node's copy from disk when the cluster was restarted after that copy was
   * written (the copy followed another cluster run, and is newer than any copy restored so far):
   * the services and instances the cluster lacks are added, with new revisions above the copy's;
   * what the cluster already has stays as it is. A copy that followed this cluster run is behind
   * it, and is never taken in (it would bring back what was removed since).
   */
  private JsonObject mergeCopy(JsonObject command, List<Change> changes) {
    Snapshot copy = Snapshot.fromJson(command.getJsonObject("copy"));
    long copyIncarnation = command.getLong("incarnation");
    long incarnation = store.incarnation();
    JsonObject reply = new JsonObject().put("incarnation", incarnation);
    if (copyIncarnation == incarnation || copy.revision() <= store.restoredRevision()) {
      return reply.put("services", 0).put("instances", 0);
    }
    Set<String> known =
        store.services().stream()
            .map(Service::name)
            .collect(Collectors.toCollection(java.util.HashSet::new));
    List<Service> newServices =
        copy.services().stream().filter(s -> !known.contains(s.name())).toList();
    newServices.forEach(s -> known.add(s.name()));
    Set<String> knownIds =
        store.allInstances().stream().map(Instance::id).collect(Collectors.toSet());
    List<Instance> newInstances =
        copy.instances().stream()
            .filter(
                i -> LocalCopy.kept(i) && known.contains(i.service()) && !knownIds.contains(i.id()))
            .toList();
    // One revision each, reserved at once above the copy's.
    long next =
        store.reserveRevisions(
            copy.revision(), Math.max(1, newServices.size() + newInstances.size()));
    int services = 0;
    for (Service service : newServices) {
      Service stored = service.withRevision(next++);
      if (store.putServiceIfAbsent(stored).isEmpty()) {
        changes.add(Change.serviceStored(stored));
        services++;
      }
    }
    int instances = 0;
    for (Instance instance : newInstances) {
      Instance stored = instance.withRevision(next++);
      if (store.putInstanceIfAbsent(stored).isEmpty()) {
        changes.add(Change.instanceStored(stored));
        instances++;
      }
    }
    store.restoredRevision(copy.revision());
    return reply.put("services", services).put("instances", instances);
  }

  private JsonObject putService(JsonObject command, List<Change> changes) {
    JsonObject body = command.getJsonObject("service");
    Service service = Service.fromJson(body.copy().put("revision", 0), command.getString("name"));
    if (service.tcpPort() != null) {
      // Two services on one port would leave the balancers to guess: refuse it here, changing
      // nothing.
      store.services().stream()
          .filter(
              other ->
                  !other.name().equals(service.name()) && service.tcpPort().equals(other.tcpPort()))
          .findFirst()
          .ifPresent(
              other -> {
                throw new ValidationException(
                    "tcpPort", "is already the tcpPort of service " + other.name());
              });
    }
    boolean existed = store.service(service.name()).isPresent();
    Service stored = service.withRevision(store.nextRevision());
    store.putService(stored);
    changes.add(Change.serviceStored(stored));
    if (stored.healthCheck() == null) {
      // Without a health check nothing would ever make these healthy again.
      for (Instance instance : store.instances(stored.name())) {
        if (instance.status() == InstanceStatus.STARTING
            || instance.status() == InstanceStatus.UNHEALTHY) {
          store
              .updateInstance(
                  instance.id(),
                  i ->
                      i.status() == InstanceStatus.DRAINING
                          ? null
                          : i.withStatus(InstanceStatus.HEALTHY, now())
                              .withRevision(store.nextRevision()))
              .ifPresent(i -> changes.add(Change.instanceStored(i)));
        }
      }
    }
    LOG.info(
        "service {} {} (revision {})",
        stored.name(),
        existed ? "updated" : "defined",
        stored.revision());
    return new JsonObject().put("service", stored.toJson()).put("created", !existed);
  }

  private JsonObject deleteService(JsonObject command, List<Change> changes) {
    String name = command.getString("name");
    if (store.service(name).isEmpty()) {
      throw new NotFoundException("no service named " + name);
    }
    for (Instance instance : store.instances(name)) {
      if (store.removeInstance(instance.id())) {
        changes.add(Change.instanceRemoved(instance, store.nextRevision()));
      }
    }
    store.removeService(name);
    changes.add(Change.serviceRemoved(name, store.nextRevision()));
    LOG.info("service {} removed", name);
    return new JsonObject().put("removed", true);
  }

  private JsonObject register(JsonObject command, List<Change> changes) {
    String serviceName = command.getString("service");
    Service.checkName(serviceName, "service");
    Instance.Registration registration =
        Instance.Registration.fromJson(command.getJsonObject("registration"));
    String source = command.getString("source", Instance.SOURCE_REST);
    String member = command.getString("member");

    Service service = store.service(serviceName).orElse(null);
    if (service == null) {
      Service defaults = Service.withDefaults(serviceName);
      String routePrefix = command.getString("routePrefix");
      if (routePrefix != null) {
        defaults =
            new Service(
                serviceName,
                java.util.List.of(io.teller.common.model.Route.prefix(routePrefix)),
                false,
                defaults.strategy(),
                defaults.hashOn(),
                null,
                null,
                defaults.drainTimeoutMs(),
                true,
                null,
                null,
                0);
      }
      Service created = defaults.withRevision(store.nextRevision());
      Optional<Service> raced = store.putServiceIfAbsent(created);
      service = raced.orElse(created);
      if (raced.isEmpty()) {
        changes.add(Change.serviceStored(created));
        LOG.info("service {} defined with defaults for its first instance", serviceName);
      }
    }
    Instant now = now();
    String id = Instance.idFor(serviceName, registration.host(), registration.port());
    InstanceStatus initial =
        service.healthCheck() == null ? InstanceStatus.HEALTHY : InstanceStatus.STARTING;
    Instance fresh =
        new Instance(
            id,
            serviceName,
            registration.host(),
            registration.port(),
            registration.weight(),
            registration.metadata(),
            registration.ttlSeconds(),
            initial,
            source,
            member,
            now,
            now,
            now,
            null,
            0);

    Optional<Instance> existing = store.instance(id);
    if (existing.isEmpty()) {
      Instance stored = fresh.withRevision(store.nextRevision());
      Optional<Instance> raced = store.putInstanceIfAbsent(stored);
      if (raced.isEmpty()) {
        changes.add(Change.instanceStored(stored));
        LOG.info(
            "instance {} registered at {}:{} ({})",
            id,
            registration.host(),
            registration.port(),
            source);
        return new JsonObject().put("instance", stored.toJson()).put("created", true);
      }
      existing = raced;
    }
    // The same address again: the same instance, brought up to date (never a duplicate).
    Instance old = existing.get();
    boolean revive = old.status() == InstanceStatus.DRAINING;
    boolean differs =
        revive
            || old.weight() != fresh.weight()
            || !old.metadata().equals(fresh.metadata())
            || !java.util.Objects.equals(old.ttlSeconds(), fresh.ttlSeconds())
            || !java.util.Objects.equals(old.member(), fresh.member())
            || !old.source().equals(fresh.source());
    Optional<Instance> updated =
        store.updateInstance(
            id,
            current ->
                new Instance(
                    id,
                    serviceName,
                    current.host(),
                    current.port(),
                    fresh.weight(),
                    fresh.metadata(),
                    fresh.ttlSeconds(),
                    revive ? initial : current.status(),
                    fresh.source(),
                    fresh.member(),
                    current.registeredAt(),
                    differs ? now : current.updatedAt(),
                    now,
                    revive ? null : current.drainUntil(),
                    differs ? store.nextRevision() : current.revision()));
    Instance result = updated.orElse(old);
    if (differs && updated.isPresent()) {
      changes.add(Change.instanceStored(result));
    }
    return new JsonObject().put("instance", result.toJson()).put("created", false);
  }

  private JsonObject deregister(JsonObject command, List<Change> changes) {
    String serviceName = command.getString("service");
    String id = command.getString("id");
    Instance instance =
        store
            .instance(id)
            .filter(i -> i.service().equals(serviceName))
            .orElseThrow(
                () -> new NotFoundException("service " + serviceName + " has no instance " + id));
    Service service = store.service(serviceName).orElse(Service.withDefaults(serviceName));
    boolean drain = command.getBoolean("drain", true) && service.drainTimeoutMs() > 0;
    if (!drain) {
      store.removeInstance(id);
      changes.add(Change.instanceRemoved(instance, store.nextRevision()));
      LOG.info("instance {} removed", id);
      return new JsonObject().put("instance", instance.toJson()).put("removed", true);
    }
    if (instance.status() == InstanceStatus.DRAINING) {
      return new JsonObject().put("instance", instance.toJson()).put("removed", false);
    }
    Instant now = now();
    Instance draining =
        store
            .updateInstance(
                id,
                i ->
                    i.draining(now, now.plusMillis(service.drainTimeoutMs()))
                        .withRevision(store.nextRevision()))
            .orElseThrow(
                () -> new NotFoundException("service " + serviceName + " has no instance " + id));
    changes.add(Change.instanceStored(draining));
    LOG.info("instance {} draining for {} ms", id, service.drainTimeoutMs());
    return new JsonObject().put("instance", draining.toJson()).put("removed", false);
  }

  private JsonObject setStatus(JsonObject command, List<Change> changes) {
    String id = command.getString("id");
    InstanceStatus status = InstanceStatus.fromJson(command.getString("status"));
    Optional<Instance> updated =
        store.updateInstance(
            id,
            i ->
                i.status() == status || i.status() == InstanceStatus.DRAINING
                    ? null
                    : i.withStatus(status, now()).withRevision(store.nextRevision()));
    updated.ifPresent(
        i -> {
          changes.add(Change.instanceStored(i));
          LOG.info(
              "instance {} is {} ({})",
              id,
              status.json(),
              command.getString("reason", "health check"));
        });
    return new JsonObject().put("changed", updated.isPresent());
  }

  /**
   * Sets an instance's weight, keeping everything else (a registration again sets the weight it
   * carries); the same weight again changes nothing and makes no revision.
   */
  private JsonObject setWeight(JsonObject command, List<Change> changes) {
    String serviceName = command.getString("service");
    String id = command.getString("id");
    int weight = command.getInteger("weight");
    Instance instance =
        store
            .instance(id)
            .filter(i -> i.service().equals(serviceName))
            .orElseThrow(
                () -> new NotFoundException("service " + serviceName + " has no instance " + id));
    if (instance.weight() == weight) {
      return new JsonObject().put("instance", instance.toJson());
    }
    Instant now = now();
    Instance updated =
        store
            .updateInstance(
                id,
                i ->
                    new Instance(
                        i.id(),
                        i.service(),
                        i.host(),
                        i.port(),
                        weight,
                        i.metadata(),
                        i.ttlSeconds(),
                        i.status(),
                        i.source(),
                        i.member(),
                        i.registeredAt(),
                        now,
                        i.lastHeartbeatAt(),
                        i.drainUntil(),
                        store.nextRevision()))
            .orElseThrow(
                () -> new NotFoundException("service " + serviceName + " has no instance " + id));
    changes.add(Change.instanceStored(updated));
    LOG.info("instance {} weight {} -> {}", id, instance.weight(), weight);
    return new JsonObject().put("instance", updated.toJson());
  }

  /** Removes an instance if the reason still holds when the leader gets to it. */
  private JsonObject removeIf(JsonObject command, List<Change> changes) {
    String id = command.getString("id");
    String reason = command.getString("reason");
    Optional<Instance> instance = store.instance(id);
    Instant now = now();
    boolean holds =
        instance
            .map(
                i ->
                    switch (reason) {
                      case WriteCommands.EXPIRED -> i.expired(now);
                      case WriteCommands.DRAINED ->
                          i.status() == InstanceStatus.DRAINING
                              && i.drainUntil() != null
                              && !i.drainUntil().isAfter(now);
                      case WriteCommands.MEMBER_LEFT ->
                          i.member() != null && i.member().equals(command.getString("member"));
                      default -> false;
                    })
            .orElse(false);
    if (holds && store.removeInstance(id)) {
      changes.add(Change.instanceRemoved(instance.get(), store.nextRevision()));
      LOG.info("instance {} removed ({})", id, reason);
      return new JsonObject().put("removed", true);
    }
    return new JsonObject().put("removed", false);
  }

  private Instant now() {
    return clock.instant();
  }
}
