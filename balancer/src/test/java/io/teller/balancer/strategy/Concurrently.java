package io.teller.balancer.strategy;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/** Picks from one picker on several threads at once, released together. */
final class Concurrently {

  private Concurrently() {}

  /** Returns how often each endpoint was picked, over {@code threads × picksPerThread} picks. */
  static Map<String, Long> pick(Picker picker, int threads, int picksPerThread)
      throws InterruptedException {
    CountDownLatch start = new CountDownLatch(1);
    Map<String, Long> total = new ConcurrentHashMap<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread[] workers = new Thread[threads];
    for (int t = 0; t < threads; t++) {
      workers[t] =
          new Thread(
              () -> {
                Map<String, Long> counts = new HashMap<>();
                try {
                  start.await();
                  for (int i = 0; i < picksPerThread; i++) {
                    counts.merge(picker.pick(TestRequest.ANY).id(), 1L, Long::sum);
                  }
                } catch (Throwable e) {
                  failure.compareAndSet(null, e);
                }
                counts.forEach((id, count) -> total.merge(id, count, Long::sum));
              },
              "picker-" + t);
      workers[t].start();
    }
    start.countDown();
    for (Thread worker : workers) {
      worker.join();
    }
    if (failure.get() != null) {
      throw new AssertionError("a picking thread failed", failure.get());
    }
    return Map.copyOf(total);
  }
}
