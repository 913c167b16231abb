package io.teller.registry.core;

import io.teller.common.model.Change;
import io.teller.common.model.Instance;
import io.teller.common.model.InstanceStatus;
import io.teller.common.model.RegistryFailure;
import io.teller.common.model.Service;
import io.teller.common.model.Snapshot;
import io.teller.common.model.ValidationException;
import io.teller.registry.core.WriteCodec.Request;
import io.teller.registry.core.WriteCodec.Written;
import io.teller.registry.core.WriteCommand.DeleteService;
import io.teller.registry.core.WriteCommand.Deregister;
import io.teller.registry.core.WriteCommand.MergeCopy;
import io.teller.registry.core.WriteCommand.PutService;
import io.teller.registry.core.WriteCommand.Register;
import io.teller.registry.core.WriteCommand.RemoveIf;
import io.teller.registry.core.WriteCommand.SetStatus;
import io.teller.registry.core.WriteCommand.SetWeight;
import io.teller.registry.core.WriteReply.CopyMerged;
import io.teller.registry.core.WriteReply.Deregistered;
import io.teller.registry.core.WriteReply.InstanceStored;
import io.teller.registry.core.WriteReply.Removed;
import io.teller.registry.core.WriteReply.ServiceDeleted;
import io.teller.registry.core.WriteReply.ServiceStored;
import io.teller.registry.core.WriteReply.StatusSet;
import io.teller.registry.core.WriteReply.WeightSet;
import io.teller.registry.store.LocalCopy;
import io.teller.registry.store.RegistryStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies every write to the registry, in arrival order, on the leading registry node (the oldest
 * data member): each write takes the next revisions, changes the maps and has its changes queued
 * for publishing before the next write starts, so that changes reach subscribers in revision order,
 * cluster-wide. Every node runs one, listening for {@link WriteCommand}s ({@link WriteCodec}); only
 * the leader's gets any. A command sent again after a timeout is answered with its first outcome
 * ({@link RecentWrites}), not applied twice.
 *
 * <p>The commands waiting when the writer's thread is free are applied together ({@link
 * SerialBatches}), as a batch: one after the other, each as if alone (a command that fails gets its
 * own failure and publishes nothing; the others are not affected), with revisions reserved for the
 * batch a block at a time ({@link Revisions}) and the batch's changes committed together.
 * Heartbeats are not writes (they change no revision) and go to the maps from any node.
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
  private final RecentWrites recent = new RecentWrites();
  private final Revisions revisions;
  // Commands in arrival order, applied on the writer's own thread.
  private final SerialBatches<Queued> queue;
  private final WorkerExecutor worker;
  private Context context;
  private MessageConsumer<JsonObject> consumer;

  RegistryWriter(Vertx vertx, RegistryStore store, Clock clock, Durability durability) {
    this.vertx = vertx;
    this.store = store;
    this.clock = clock;
    this.durability = durability;
    this.revisions = new Revisions(store);
    this.worker =
        vertx.createSharedWorkerExecutor("teller-registry-writer-" + UUID.randomUUID(), 1);
    this.queue = new SerialBatches<>(worker, false, this::applyQueued);
  }

  /**
   * Takes commands at {@code address}. Call on the verticle's context: commands are applied in the
   * order they arrive on it.
   */
  Future<Void> start(String address) {
    context = vertx.getOrCreateContext();
    consumer = vertx.eventBus().consumer(address, this::receive);
    return consumer.completion();
  }

  Future<Void> stop() {
    Future<Void> unregistered = consumer == null ? Future.succeededFuture() : consumer.unregister();
    return unregistered.eventually(worker::close);
  }

  private void receive(Message<JsonObject> message) {
    Request request;
    try {
      request = WriteCodec.decode(message.body());
    } catch (RuntimeException e) {
      RegistryFailure.of(e).failReply(message);
      return;
    }
    submit(request)
        .onSuccess(written -> message.reply(WriteCodec.encodeReply(written)))
        .onFailure(failure -> RegistryFailure.of(failure).failReply(message));
  }

  /**
   * Has {@code request} applied, or answered with its first outcome if its id was seen: what a
   * command that came over the event bus gets, and what a sender on this node gets directly. Call
   * on the writer's context.
   */
  Future<Written<?>> submit(Request request) {
    return recent.answer(
        request.requestId(),
        () -> apply(request.command()),
        () ->
            LOG.info(
                "{} sent again after a timeout (request {}): answered with its first outcome",
                request.command().getClass().getSimpleName(),
                request.requestId()));
  }

  /** Applies a command once its turn comes; completes once its changes are on disk. */
  private Future<Written<?>> apply(WriteCommand<?> command) {
    Promise<Written<?>> answer = Promise.promise();
    queue.add(new Queued(command, answer));
    return answer.future();
  }

  private record Queued(WriteCommand<?> command, Promise<Written<?>> answer) {}

  /**
   * On the writer's thread: applies the commands that were waiting, in arrival order, as one batch
   * (a worker hop per command cost more than the command's own map operations); the answers go back
   * to the writer's context, in order, while the next batch is applied. A batch may start while the
   * last one's changes wait for the disk; answers and changes still go out in order.
   */
  private void applyQueued(List<Queued> batch) {
    List<Applied> applied;
    RuntimeException failure = null;
    try {
      applied = applyBatch(batch.stream().<WriteCommand<?>>map(Queued::command).toList());
    } catch (RuntimeException e) {
      applied = null;
      failure = e;
    } catch (Error e) {
      // Answered, not left to stop the writer's thread.
      applied = null;
      failure = new IllegalStateException("write not applied: " + e, e);
    }
    List<Applied> outcomes = applied;
    RuntimeException failed = failure;
    context.runOnContext(
        v -> {
          for (int i = 0; i < batch.size(); i++) {
            Promise<Written<?>> answer = batch.get(i).answer();
            if (failed != null) {
              answer.fail(failed);
            } else {
              outcomes.get(i).answer(answer);
            }
          }
        });
  }

  /** A command's outcome: its reply and when its changes are on disk and published, or failure. */
  private record Applied(Written<?> written, Future<Void> durable, RuntimeException failure) {

    void answer(Promise<Written<?>> answer) {
      if (failure != null) {
        answer.fail(failure);
      } else {
        durable.map(written).onComplete(answer);
      }
    }
  }

  /**
   * Applies {@code commands} one after the other, each as if alone: one that fails leaves its
   * changes unpublished and the others as they are. Revisions come from blocks reserved for the
   * batch; the batch's changes share one commit, in revision order.
   */
  List<Applied> applyBatch(List<WriteCommand<?>> commands) {
    List<Applied> applied = new ArrayList<>(commands.size());
    List<Change> all = new ArrayList<>();
    Promise<Void> durable = Promise.promise();
    revisions.open(commands.size());
    try {
      for (WriteCommand<?> command : commands) {
        List<Change> changes = new ArrayList<>();
        try {
          WriteReply reply = applyOne(command, changes);
          long last = changes.stream().mapToLong(Change::revision).max().orElse(0);
          applied.add(
              new Applied(
                  new Written<>(reply, last),
                  changes.isEmpty() ? Future.succeededFuture() : durable.future(),
                  null));
          all.addAll(changes);
        } catch (RuntimeException e) {
          applied.add(new Applied(null, null, e));
        }
      }
    } finally {
      revisions.release();
    }
    // Queued in revision order, from this ordered task.
    if (all.isEmpty()) {
      durable.complete();
    } else {
      durability.commit(all).onComplete(durable);
    }
    return applied;
  }

  private WriteReply applyOne(WriteCommand<?> command, List<Change> changes) {
    WriteReply reply;
    if (command instanceof PutService c) {
      reply = putService(c.service(), changes);
    } else if (command instanceof DeleteService c) {
      reply = deleteService(c.name(), changes);
    } else if (command instanceof Register c) {
      reply = register(c, changes);
    } else if (command instanceof Deregister c) {
      reply = deregister(c, changes);
    } else if (command instanceof SetStatus c) {
      reply = setStatus(c, changes);
    } else if (command instanceof SetWeight c) {
      reply = setWeight(c, changes);
    } else if (command instanceof RemoveIf c) {
      reply = removeIf(c, changes);
    } else {
      reply = mergeCopy((MergeCopy) command, changes);
    }
    return reply;
  }

  /**
   * Takes in a registry node's copy from disk when the cluster was restarted after that copy was
   * written (the copy followed another cluster run, and is newer than any copy restored so far):
   * the services and instances the cluster lacks are added, with new revisions above the copy's;
   * what the cluster already has stays as it is. A copy that followed this cluster run is behind
   * it, and is never taken in (it would bring back what was removed since).
   */
  private CopyMerged mergeCopy(MergeCopy command, List<Change> changes) {
    Snapshot copy = command.copy();
    long incarnation = store.incarnation();
    if (command.incarnation() == incarnation || copy.revision() <= store.restoredRevision()) {
      return new CopyMerged(incarnation, 0, 0);
    }
    Set<String> known =
        store.services().stream().map(Service::name).collect(Collectors.toCollection(HashSet::new));
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
    // One revision each, reserved at once above the copy's (and above the batch's so far).
    revisions.release();
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
    if (newServices.stream().anyMatch(s -> s.tcpPort() != null)) {
      store.tcpPortsChanged();
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
    return new CopyMerged(incarnation, services, instances);
  }

  private ServiceStored putService(Service service, List<Change> changes) {
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
    Optional<Service> before = store.service(service.name());
    boolean existed = before.isPresent();
    Service stored = service.withRevision(revisions.next());
    store.putService(stored);
    if (stored.tcpPort() != null || before.map(Service::tcpPort).isPresent()) {
      store.tcpPortsChanged();
    }
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
                              .withRevision(revisions.next()))
              .ifPresent(i -> changes.add(Change.instanceStored(i)));
        }
      }
    }
    LOG.info(
        "service {} {} (revision {})",
        stored.name(),
        existed ? "updated" : "defined",
        stored.revision());
    return new ServiceStored(stored, !existed);
  }

  private ServiceDeleted deleteService(String name, List<Change> changes) {
    Service service =
        store.service(name).orElseThrow(() -> RegistryFailure.notFound("no service named " + name));
    for (Instance instance : store.instances(name)) {
      if (store.removeInstance(instance.id())) {
        changes.add(Change.instanceRemoved(instance, revisions.next()));
      }
    }
    store.removeService(name);
    if (service.tcpPort() != null) {
      store.tcpPortsChanged();
    }
    changes.add(Change.serviceRemoved(name, revisions.next()));
    LOG.info("service {} removed", name);
    return new ServiceDeleted();
  }

  /**
   * Registers in three steps: the service (made with defaults for its first instance), then the
   * instance at that address, new or, if it exists, brought up to date (never a duplicate).
   */
  private InstanceStored register(Register command, List<Change> changes) {
    Service service = serviceFor(command, changes);
    Instance fresh =
        Instance.registered(
            command.service(),
            command.registration(),
            service.healthCheck() == null ? InstanceStatus.HEALTHY : InstanceStatus.STARTING,
            command.source(),
            command.member(),
            now());
    // Stored unless it exists, in one call: a read first cost a cluster call per registration on
    // the writer, the registry's one serial stage. A revision taken for an address that exists is
    // left unused (revisions may have gaps, never repeats).
    Instance stored = fresh.withRevision(revisions.next());
    Optional<Instance> existing = store.putInstanceIfAbsent(stored);
    if (existing.isEmpty()) {
      return added(stored, changes);
    }
    return registeredAgain(existing.get(), fresh, changes);
  }

  /** The registration's service: the stored one, or one with defaults for its first instance. */
  private Service serviceFor(Register command, List<Change> changes) {
    String name = command.service();
    Optional<Service> stored = store.service(name);
    if (stored.isPresent()) {
      return stored.get();
    }
    Service created =
        (command.routePrefix() == null
                ? Service.withDefaults(name)
                : Service.withDefaults(name, command.routePrefix()))
            .withRevision(revisions.next());
    Optional<Service> raced = store.putServiceIfAbsent(created);
    if (raced.isPresent()) {
      return raced.get();
    }
    changes.add(Change.serviceStored(created));
    LOG.info("service {} defined with defaults for its first instance", name);
    return created;
  }

  /** A new address of the service, stored. */
  private InstanceStored added(Instance stored, List<Change> changes) {
    changes.add(Change.instanceStored(stored));
    LOG.info(
        "instance {} registered at {}:{} ({})",
        stored.id(),
        stored.host(),
        stored.port(),
        stored.source());
    return new InstanceStored(stored, true);
  }

  /**
   * The same address again: the same instance, brought up to date; it gets a new revision (and is
   * published) only if more than its heartbeat changed.
   */
  private InstanceStored registeredAgain(Instance existing, Instance fresh, List<Change> changes) {
    boolean changed = existing.changedBy(fresh);
    Optional<Instance> updated =
        store.updateInstance(
            fresh.id(),
            current ->
                changed
                    ? current.registeredAgain(fresh).withRevision(revisions.next())
                    : current.registeredAgain(fresh));
    if (changed && updated.isPresent()) {
      changes.add(Change.instanceStored(updated.get()));
    }
    return new InstanceStored(updated.orElse(existing), false);
  }

  private Deregistered deregister(Deregister command, List<Change> changes) {
    String serviceName = command.service();
    String id = command.id();
    Instance instance =
        store
            .instance(id)
            .filter(i -> i.service().equals(serviceName))
            .orElseThrow(() -> noInstance(serviceName, id));
    Service service = store.service(serviceName).orElse(Service.withDefaults(serviceName));
    boolean drain = command.drain() && service.drainTimeoutMs() > 0;
    if (!drain) {
      store.removeInstance(id);
      changes.add(Change.instanceRemoved(instance, revisions.next()));
      LOG.info("instance {} removed", id);
      return new Deregistered(instance, true);
    }
    if (instance.status() == InstanceStatus.DRAINING) {
      return new Deregistered(instance, false);
    }
    Instant now = now();
    Instance draining =
        store
            .updateInstance(
                id,
                i ->
                    i.draining(now, now.plusMillis(service.drainTimeoutMs()))
                        .withRevision(revisions.next()))
            .orElseThrow(() -> noInstance(serviceName, id));
    changes.add(Change.instanceStored(draining));
    LOG.info("instance {} draining for {} ms", id, service.drainTimeoutMs());
    return new Deregistered(draining, false);
  }

  private StatusSet setStatus(SetStatus command, List<Change> changes) {
    InstanceStatus status = command.status();
    Optional<Instance> updated =
        store.updateInstance(
            command.id(),
            i ->
                i.status() == status || i.status() == InstanceStatus.DRAINING
                    ? null
                    : i.withStatus(status, now()).withRevision(revisions.next()));
    updated.ifPresent(
        i -> {
          changes.add(Change.instanceStored(i));
          LOG.info(
              "instance {} is {} ({})",
              i.id(),
              status.json(),
              command.reason() == null ? "health check" : command.reason());
        });
    return new StatusSet(updated.isPresent());
  }

  /**
   * Sets an instance's weight, keeping everything else (a registration again sets the weight it
   * carries); the same weight again changes nothing and makes no revision.
   */
  private WeightSet setWeight(SetWeight command, List<Change> changes) {
    String serviceName = command.service();
    String id = command.id();
    Instance instance =
        store
            .instance(id)
            .filter(i -> i.service().equals(serviceName))
            .orElseThrow(() -> noInstance(serviceName, id));
    if (instance.weight() == command.weight()) {
      return new WeightSet(instance, false);
    }
    Instant now = now();
    Instance updated =
        store
            .updateInstance(
                id,
                i ->
                    i.service().equals(serviceName)
                        ? i.withWeight(command.weight(), now).withRevision(revisions.next())
                        : null)
            .orElseThrow(() -> noInstance(serviceName, id));
    changes.add(Change.instanceStored(updated));
    LOG.info("instance {} weight {} -> {}", id, instance.weight(), command.weight());
    return new WeightSet(updated, true);
  }

  /** Removes an instance if the reason still holds when the leader gets to it. */
  private Removed removeIf(RemoveIf command, List<Change> changes) {
    String id = command.id();
    Optional<Instance> instance = store.instance(id);
    Instant now = now();
    boolean holds =
        instance
            .map(
                i ->
                    switch (command.reason()) {
                      case EXPIRED -> i.expired(now);
                      case DRAINED ->
                          i.status() == InstanceStatus.DRAINING
                              && i.drainUntil() != null
                              && !i.drainUntil().isAfter(now);
                      case MEMBER_LEFT -> i.member() != null && i.member().equals(command.member());
                    })
            .orElse(false);
    if (holds && store.removeInstance(id)) {
      changes.add(Change.instanceRemoved(instance.get(), revisions.next()));
      LOG.info("instance {} removed ({})", id, command.reason().json());
      return new Removed(true);
    }
    return new Removed(false);
  }

  private static RegistryFailure noInstance(String service, String id) {
    return RegistryFailure.notFound("service " + service + " has no instance " + id);
  }

  private Instant now() {
    return clock.instant();
  }
}
