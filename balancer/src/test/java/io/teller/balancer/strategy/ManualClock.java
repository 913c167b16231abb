package io.teller.balancer.strategy;

import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicLong;

/** A clock that tells the time the test sets, and counts how often it was read. */
final class ManualClock implements InstantSource {

  private volatile long millis;
  private final AtomicLong reads = new AtomicLong();

  ManualClock(long millis) {
    this.millis = millis;
  }

  /** Sets the time, epoch ms. */
  ManualClock at(long millis) {
    this.millis = millis;
    return this;
  }

  /** How often {@link #millis()} was called. */
  long reads() {
    return reads.get();
  }

  @Override
  public long millis() {
    reads.incrementAndGet();
    return millis;
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis());
  }
}
