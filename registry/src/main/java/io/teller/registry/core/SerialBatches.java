package io.teller.registry.core;

import io.vertx.core.WorkerExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands items to one thread in batches, in the order they were added: what is waiting when the
 * thread is free is one batch, and the thread keeps taking batches while items wait rather than
 * being woken again for each (waking a thread on a busy machine took ~0.8 ms, longer than a batch
 * of registrations took to apply). For the registry's serial stages: the writer's commands and the
 * disk's commits.
 */
final class SerialBatches<T> {

  private static final Logger LOG = LoggerFactory.getLogger("teller.registry");

  private final Queue<T> queue = new ConcurrentLinkedQueue<>();
  // Up while the thread has the queue; whoever raises it starts the thread.
  private final AtomicBoolean running = new AtomicBoolean();
  private final WorkerExecutor thread;
  private final boolean ordered;
  private final Consumer<List<T>> handler;

  /**
   * @param thread a worker executor of one thread
   * @param ordered whether the thread is started through the executor's ordered queue (where the
   *     executor runs other ordered tasks that keep their place; the writer measured ~15% slower
   *     through it)
   * @param handler takes each batch on that thread; answers for its items itself, failures included
   */
  SerialBatches(WorkerExecutor thread, boolean ordered, Consumer<List<T>> handler) {
    this.thread = thread;
    this.ordered = ordered;
    this.handler = handler;
  }

  /** Queues {@code item}; from any thread. */
  void add(T item) {
    queue.add(item);
    if (running.compareAndSet(false, true)) {
      thread.executeBlocking(
          () -> {
            drain();
            return null;
          },
          ordered);
    }
  }

  private void drain() {
    while (true) {
      List<T> batch = new ArrayList<>();
      for (T item = queue.poll(); item != null; item = queue.poll()) {
        batch.add(item);
      }
      if (batch.isEmpty()) {
        running.set(false);
        // An item added after the poll found the flag up and left it to this thread: take it.
        if (queue.isEmpty() || !running.compareAndSet(false, true)) {
          return;
        }
        continue;
      }
      try {
        handler.accept(batch);
      } catch (RuntimeException e) {
        // The handler answers for its items; one that throws still must not stop the thread.
        LOG.error("a batch of {} failed unanswered: {}", batch.size(), e.toString());
      }
    }
  }
}
