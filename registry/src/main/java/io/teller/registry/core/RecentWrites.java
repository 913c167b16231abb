package io.teller.registry.core;

import io.vertx.core.Future;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The leader's memory of the writes it took lately, by request id, so that a command sent again
 * (its sender timed out waiting and retried) is answered with the first outcome instead of being
 * applied twice: a repeated {@code PUT} would answer 200 instead of 201, a repeated removal 404.
 *
 * <p>A write still being applied is always remembered (a retry then waits for it). A finished one
 * is remembered for {@value #KEEP_MS} ms, the most recent {@value #CAPACITY} at most: a sender
 * retries only after its own timeout (5 s) and gives up 15 s after its first attempt, so a retry
 * arrives either while the write is still being applied or shortly after it finished. The memory is
 * this node's: a retry that reaches a new leader after the old one died is applied again.
 */
final class RecentWrites {

  static final int CAPACITY = 4_096;
  static final long KEEP_MS = 30_000;

  // Synchronized rather than confined: cheap, and right whichever thread completes a write.
  private final Map<String, Future<?>> running = new HashMap<>();
  private final LinkedHashMap<String, Done> done = new LinkedHashMap<>();

  private record Done(long at, Future<?> outcome) {}

  /**
   * The outcome of the write {@code requestId}: the first one's if this id was seen lately, else
   * what {@code apply} starts now (then {@code repeated} is told). A null id (an unnamed write) is
   * always applied.
   */
  synchronized <T> Future<T> answer(
      String requestId, Supplier<Future<T>> apply, Runnable repeated) {
    if (requestId == null) {
      return apply.get();
    }
    forgetOld(System.nanoTime());
    Future<?> known = running.get(requestId);
    if (known == null) {
      Done finished = done.get(requestId);
      known = finished == null ? null : finished.outcome();
    }
    if (known != null) {
      repeated.run();
      // The same id always comes with the same command, hence the same reply type.
      @SuppressWarnings("unchecked")
      Future<T> same = (Future<T>) known;
      return same;
    }
    Future<T> outcome = apply.get();
    running.put(requestId, outcome);
    outcome.onComplete(result -> finished(requestId, outcome));
    return outcome;
  }

  private synchronized void finished(String requestId, Future<?> outcome) {
    running.remove(requestId);
    done.put(requestId, new Done(System.nanoTime(), outcome));
    forgetOld(System.nanoTime());
  }

  private void forgetOld(long now) {
    Iterator<Done> oldest = done.values().iterator();
    while (oldest.hasNext()) {
      Done next = oldest.next();
      if (done.size() <= CAPACITY && now - next.at() < KEEP_MS * 1_000_000) {
        return;
      }
      oldest.remove();
    }
  }
}
