package io.teller.registry.core;

import io.teller.common.model.Change;
import io.teller.common.model.RegistryContract;
import io.teller.common.model.Snapshot;
import io.teller.registry.store.LocalCopy;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.EventBus;
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
 *   <li>On the leader, each write's changes are appended (fsynced) before they are published and
 *       the write is answered: an acknowledged write is on the leader's disk. Writes that arrive
 *       meanwhile share the next fsync (group commit).
 *   <li>Every node appends the published changes to its own copy, in batches (one fsync for
 *       whatever arrived meanwhile), on one disk thread.
 *   <li>A node answering an API write waits until its own copy holds the write too, at most {@value
 *       #ANSWER_WAIT_MS} ms (the leader's copy has it already).
 *   <li>At start, the node offers its copy to the cluster (which takes it only if the cluster was
 *       restarted meanwhile, see {@code RegistryWriter}), then replaces it with the cluster's state
 *       and follows the changes from there.
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
  // The leader's commits, in revision order; one fsync for whatever waited.
  private final SerialBatches<Commit> commits;
  private MessageConsumer<JsonObject> consumer;
  private boolean draining;

  public Durability(Vertx vertx, LocalCopy copy) {
    this.vertx = vertx;
    this.copy = copy;
    this.disk = vertx.createSharedWorkerExecutor("teller-registry-disk-" + UUID.randomUUID(), 1);
    this.commits = new SerialBatches<>(disk, true, this::commitBatch);
  }

  /** Follows the published changes; call on the verticle's context. */
  public Future<Void> start() {
    consumer =
        vertx
            .eventBus()
            .consumer(
                RegistryContract.CHANGES,
                message -> {
                  pending.add(Change.fromJson(message.body()));
                  drain();
                });
    return consumer.completion();
  }

  /**
   * Offers this node's copy to the cluster, then makes the copy the cluster's state. Completes with
   * the line that says what happened.
   */
  public Future<String> join(RegistryService registry) {
    return disk.executeBlocking(() -> new Offer(copy.contents(), copy.incarnation()), true)
        .compose(
            offer ->
                registry
                    .write(new WriteCommand.MergeCopy(offer.contents(), offer.incarnation()))
                    .compose(
                        merged ->
                            disk.executeBlocking(
                                () -> {
                                  copy.reconcile(registry.store().snapshot(), merged.incarnation());
                                  return describe(offer.contents(), merged);
                                },
                                true)));
  }

  private record Offer(Snapshot contents, long incarnation) {}

  private String describe(Snapshot offered, WriteReply.CopyMerged merged) {
    if (merged.services() + merged.instances() > 0) {
      return String.format(
          "state restored from %s: %d services and %d instances (saved at revision %d)",
          copy.dir(), merged.services(), merged.instances(), offered.revision());
    }
    Snapshot kept = copy.contents();
    if (kept.services().isEmpty() && kept.instances().isEmpty()) {
      return "state kept in " + copy.dir() + " (nothing to restore)";
    }
    return String.format(
        "state kept in %s: %d services and %d instances, as the cluster holds them",
        copy.dir(), kept.services().size(), kept.instances().size());
  }

  /**
   * The leader's path, called in revision order: has {@code changes} on disk, then publishes them;
   * completes after both. Whatever was queued while the disk was busy shares one fsync.
   */
  Future<Void> commit(List<Change> changes) {
    Promise<Void> done = Promise.promise();
    commits.add(new Commit(changes, done));
    return done.future();
  }

  private record Commit(List<Change> changes, Promise<Void> done) {}

  /** On the disk thread: one fsync for the batch, then its changes published, in order. */
  private void commitBatch(List<Commit> batch) {
    IOException failure = null;
    try {
      copy.append(batch.stream().flatMap(c -> c.changes().stream()).toList());
    } catch (IOException | RuntimeException e) {
      failure = e instanceof IOException io ? io : new IOException(e.getMessage(), e);
      LOG.error("cannot write the registry's state in {}: {}", copy.dir(), failure.getMessage());
    }
    EventBus bus = vertx.eventBus();
    for (Commit commit : batch) {
      // Published even if the disk failed: the change is in effect in the cluster.
      commit.changes().forEach(change -> bus.publish(RegistryContract.CHANGES, change.toJson()));
      if (failure == null) {
        commit.done().complete();
      } else {
        commit
            .done()
            .fail(
                new IllegalStateException(
                    "the change is in effect but not on disk: " + failure.getMessage()));
      }
    }
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
    return unregistered
        .transform(
            ignored ->
                disk.executeBlocking(
                    () -> {
                      try {
                        copy.append(takePending());
                      } finally {
                        copy.close();
                      }
                      return null;
                    },
                    true))
        .eventually(() -> disk.close())
        .mapEmpty();
  }

  private void drain() {
    if (draining || pending.isEmpty()) {
      return;
    }
    draining = true;
    List<Change> batch = takePending();
    disk.executeBlocking(
            () -> {
              copy.append(batch);
              return null;
            },
            true)
        .onComplete(
            done -> {
              if (done.failed()) {
                LOG.error(
                    "cannot write the registry's state in {}: {}",
                    copy.dir(),
                    done.cause().getMessage());
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
      NavigableMap<Long, List<Promise<Void>>> reached =
          waiters.headMap(copy.durableRevision(), true);
      reached.values().forEach(done::addAll);
      reached.clear();
    }
    done.forEach(Promise::tryComplete);
  }
}
