package io.teller.backend;

import java.util.function.LongSupplier;

/**
 * Imitates a cold JVM, which is slow for its first seconds (JIT, caches, pools): each request
 * served during the warm-up is answered later by {@code maxDelayMs × (1 − elapsed / warmupMs)²}, so
 * the first requests take the whole extra delay and the slowness fades out quickly at first, then
 * slowly, to nothing at the end of the warm-up. Thread-safe (it only reads the clock).
 */
final class Warmup {

  private final long startNanos;
  private final long warmupNanos;
  private final long maxDelayMs;
  private final LongSupplier nanos;

  /**
   * @param warmupMs how long the warm-up lasts from now; 0 for none
   * @param maxDelayMs the extra delay of a request at the very start
   * @param nanos the clock, {@link System#nanoTime()}'s scale
   */
  Warmup(long warmupMs, long maxDelayMs, LongSupplier nanos) {
    this.nanos = nanos;
    this.startNanos = nanos.getAsLong();
    this.warmupNanos = warmupMs * 1_000_000;
    this.maxDelayMs = maxDelayMs;
  }

  /** The extra delay of a request served now, in ms; 0 once warm. */
  long delayMs() {
    long elapsed = nanos.getAsLong() - startNanos;
    if (elapsed >= warmupNanos) {
      return 0;
    }
    double cold = 1 - (double) Math.max(0, elapsed) / warmupNanos;
    return Math.round(maxDelayMs * cold * cold);
  }
}
