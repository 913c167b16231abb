package io.teller.common.testing;

import java.time.Duration;

/** Polls an assertion until it holds or a deadline passes: the test's alternative to sleeping. */
public final class Poll {

  /** An assertion that may throw. */
  @FunctionalInterface
  public interface Check {
    void run() throws Exception;
  }

  private Poll() {}

  /**
   * Re-runs {@code check} every 20 ms until it passes; rethrows its last failure at the deadline.
   */
  public static void until(Duration within, Check check) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      try {
        check.run();
        return;
      } catch (AssertionError | Exception e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
      }
      Thread.sleep(20);
    }
  }
}
