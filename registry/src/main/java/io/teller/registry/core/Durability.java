package io.teller.registry.core;

import io.teller.common.model.Change;
import io.teller.common.model.RegistryContract;
import io.teller.common.model.Snapshot;
import io.teller.registry.store.LocalCopy;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.Queue;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this registry node's {@link LocalCopy} on disk in step with the cluster.
 *
 * <ul>
 *   <li>On the leader, the writer appends each write's changes (fsynced) before it publishes them
 *       or answers: an acknowledged write is on the leader's disk.
 *   <li>Every node appends the published changes to its own copy, in batches (one fsync for
 *       whatever arrived meanwhile), on one disk thread.
 *   <li>A node answering an API write waits until its own copy holds the write too, at most
 *       {@value #ANSWER_WAIT_MS} ms (the leader's copy has it already).
 *   <li>At start, the node offers its copy to the cluster (which takes it only if the cluster was
 *       restarted meanwhile, see {@code RegistryWriter}), then replaces it with the cluster's
 *       state and follows the changes from there.
 * </ul>
 */
public final class Durability {

  static final long ANSWER_WAIT_MS = 2_000;
  private static final Logger LOG = LoggerFactory.getLogger("teller.registry");

  private final Vertx vertx;
  private final LocalCopy copy;
  private final WorkerExecutor disk;
  private final Queue<Change> pending = new ConcurrentLinkedQueue<>();
  private final NavigableMap<Long, List<Promise<Void>>> waiters = new TreeMap<>();
  private MessageConsumer<JsonObject> consumer;
  private boolean draining;

  public Durability(Vertx vertx, LocalCopy copy) {
    this.vertx = vertx;
    this.copy = copy;
    this.disk = vertx.createSharedWorkerExecutor("teller-registry-disk-" + UUID.randomUUID(), 1);
  }

  /** Follows the published changes; call on the verticle's context. */
  public Future<Void> start() {
    consumer = vertx.eventBus().consumer(RegistryContract.CHANGES, message -> {
      pending.add(Change.fromJson(message.body()));
      drain();
    });
    return consumer.completion();
  }

  /**
   * Offers this node's copy to the cluster, then makes the copy the cluster's state. Completes
   * with the line that says what happened.
   */
  public Future<String> join(RegistryService registry) {
    return disk.executeBlocking(() -> new Offer(copy.contents(), copy.incarnation()), true)
        .compose(offer -> registry.mergeCopy(offer.contents(), offer.incarnation())
            .compose(reply -> disk.executeBlocking(() -> {
              copy.reconcile(registry.store().snapshot(), reply.getLong("incarnation"));
              return describe(offer.contents(), reply);
            }, true)));
  }

  private record Offer(Snapshot contents, long incarnation) {}

  private String describe(Snapshot offered, JsonObject reply) {
    int services = reply.getInteger("services", 0);
    int instances = reply.getInteger("instances", 0);
    if (services + instances > 0) {
      return String.format("state restored from %s: %d services and %d instances (saved at revision %d)",
          copy.dir(), services, instances, offered.revision());
    }
    Snapshot kept = copy.contents();
    if (kept.services().isEmpty() && kept.instances().isEmpty()) {
      return "state kept in " + copy.dir() + " (nothing to restore)";
    }
    return String.format("state kept in %s: %d services and %d instances, as the cluster holds them",
        copy.dir(), kept.services().size(), kept.instances().size());
  }

  /** The leader's path, on the writer's worker: the changes are on disk when it returns. */
  void persist(List<Change> changes) throws IOException {
    copy.append(changes);
  }

  /**
   * Completes once this node's copy holds {@code revision}, or after {@value #ANSWER_WAIT_MS} ms
   * (when this node's disk lags, the leader's copy still has the write).
   */
  Future<Void> awaitDurable(long revision) {
    if (copy.durableRevision() >= revision) {
      return Future.succeededFuture();
    }
    Promise<Void> promise = Promise.promise();
    synchronized (waiters) {
      waiters.computeIfAbsent(revision, r -> new ArrayList<>()).add(promise);
    }
    vertx.setTimer(ANSWER_WAIT_MS, t -> promise.tryComplete());
    release();
    return promise.future();
  }

  /** Stops following, writes what is pending and closes the copy. */
  public Future<Void> stop() {
    Future<Void> unregistered = consumer == null ? Future.succeededFuture() : consumer.unregister();
    return unregistered.transform(ignored -> disk.executeBlocking(() -> {
          try {
            copy.append(takePending());
          } finally {
            copy.close();
          }
          return null;
        }, true))
        .eventually(() -> disk.close())
        .mapEmpty();
  }

  private void drain() {
    if (draining || pending.isEmpty()) {
      return;
    }
    draining = true;
    List<Change> batch = takePending();
    disk.executeBlocking(() -> {
      copy.append(batch);
      return null;
    }, true).onComplete(done -> {
      if (done.failed()) {
        LOG.error("cannot write the registry's state in {}: {}", copy.dir(), done.cause().getMessage());
      }
      draining = false;
      release();
      drain();
    });
  }

  private List<Change> takePending() {
    List<Change> batch = new ArrayList<>();
    Change change;
    while ((change = pending.poll()) != null) {
      batch.add(change);
    }
    return batch;
  }

  private void release() {
    List<Promise<Void>> done = new ArrayList<>();
    synchronized (waiters) {
      NavigableMap<Long, List<Promise<Void>>> reached = waiters.headMap(copy.durableRevision(), true);
      reached.values().forEach(done::addAll);
      reached.clear();
    }
    done.forEach(Promise::tryComplete);
  }
}
