package io.teller.registry.core;

import io.teller.common.model.Instance;
import io.teller.common.model.RegistryFailure;
import io.teller.common.model.Service;
import io.teller.common.model.Snapshot;
import io.teller.registry.store.RegistryStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * The registry's operations, as every API (REST, event bus) and every background task uses them.
 * Reads go to the cluster's maps from this node; writes are {@link WriteCommand}s that the leading
 * registry node's {@link RegistryWriter} applies in order; heartbeats update the maps directly.
 * Every failure is a {@link RegistryFailure}.
 */
public final class RegistryService {

  private final Vertx vertx;
  private final RegistryStore store;
  private final String nodeId;
  private final Clock clock;
  private final Durability durability;
  private final WriteClient writes;
  private RegistryWriter writer;

  public RegistryService(
      Vertx vertx, RegistryStore store, String nodeId, Clock clock, Durability durability) {
    this.vertx = vertx;
    this.store = store;
    this.nodeId = nodeId;
    this.clock = clock;
    this.durability = durability;
    this.writes = new WriteClient(vertx, store.hazelcast());
  }

  /** Starts this node's writer, used when this node leads. Call from the verticle's context. */
  public Future<Void> start() {
    writer = new RegistryWriter(vertx, store, clock, durability);
    Context context = vertx.getOrCreateContext();
    RegistryWriter started = writer;
    return writer
        .start(WriteCodec.ADDRESS_PREFIX + nodeId)
        .onSuccess(v -> writes.local(nodeId, context, started));
  }

  public Future<Void> stop() {
    writes.local(null, null, null);
    return writer == null ? Future.succeededFuture() : writer.stop();
  }

  /** This node's Hazelcast member id. */
  public String nodeId() {
    return nodeId;
  }

  /** The store, for background tasks running on workers. */
  public RegistryStore store() {
    return store;
  }

  // ---- reads ----

  public Future<List<Service>> services() {
    return blocking(store::services);
  }

  public Future<Service> service(String name) {
    return blocking(
        () ->
            store
                .service(name)
                .orElseThrow(() -> RegistryFailure.notFound("no service named " + name)));
  }

  public Future<List<Instance>> instances(String service) {
    return blocking(
        () -> {
          if (store.service(service).isEmpty()) {
            throw RegistryFailure.notFound("no service named " + service);
          }
          return store.instances(service);
        });
  }

  public Future<Instance> instance(String service, String id) {
    return blocking(
        () ->
            store
                .instance(id)
                .filter(i -> i.service().equals(service))
                .orElseThrow(() -> noInstance(service, id)));
  }

  public Future<Snapshot> snapshot() {
    return blocking(store::snapshot);
  }

  // ---- writes ----

  /**
   * Has the leading registry node apply {@code command}, validated by the caller; answers once this
   * node's copy on disk holds it too (or after {@value Durability#ANSWER_WAIT_MS} ms, the leader's
   * copy has it already).
   */
  public <R extends WriteReply> Future<R> write(WriteCommand<R> command) {
    return writes
        .send(command)
        .compose(
            written ->
                written.lastRevision() == 0
                    ? Future.succeededFuture(written.reply())
                    : durability.awaitDurable(written.lastRevision()).map(written.reply()));
  }

  /** Records a heartbeat; fails as not found when the instance is unknown. */
  public Future<Instance> heartbeat(String service, String id) {
    return blocking(
        () ->
            store
                .updateInstance(
                    id, i -> i.service().equals(service) ? i.heartbeat(clock.instant()) : null)
                .orElseThrow(() -> noInstance(service, id)));
  }

  private static RegistryFailure noInstance(String service, String id) {
    return RegistryFailure.notFound("service " + service + " has no instance " + id);
  }

  private <T> Future<T> blocking(Callable<T> work) {
    return vertx.executeBlocking(work, false);
  }
}
