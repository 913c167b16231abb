package io.teller.balancer.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RetryBudgetTest {

  private final AtomicLong now = new AtomicLong(1_000_000);

  private int retriesAllowed(RetryBudget budget, int tries) {
    int allowed = 0;
    for (int i = 0; i < tries; i++) {
      if (budget.tryRetry()) {
        allowed++;
      }
    }
    return allowed;
  }

  @Test
  void retriesAreCappedAtTheShareOfRequestsPlusTheFloor() {
    RetryBudget budget = new RetryBudget(20, 1, now::get);
    for (int i = 0; i < 1_000; i++) {
      budget.request();
    }
    // 20% of 1000 requests, plus 1 a second over the 10 s window.
    assertThat(retriesAllowed(budget, 1_000)).isEqualTo(200 + 10);
  }

  @Test
  void aQuietBalancerStillGetsTheFloor() {
    RetryBudget budget = new RetryBudget(20, 3, now::get);
    assertThat(retriesAllowed(budget, 100)).isEqualTo(30);
  }

  @Test
  void theWindowSlides() {
    RetryBudget budget = new RetryBudget(50, 0, now::get);
    for (int i = 0; i < 100; i++) {
      budget.request();
    }
    assertThat(retriesAllowed(budget, 100)).isEqualTo(50);
    now.addAndGet(5_000);
    assertThat(retriesAllowed(budget, 100)).isZero();
    now.addAndGet(6_000);
    // The requests and retries of 11 s ago have left the window: nothing to retry on.
    assertThat(retriesAllowed(budget, 100)).isZero();
    for (int i = 0; i < 10; i++) {
      budget.request();
    }
    assertThat(retriesAllowed(budget, 100)).isEqualTo(5);
  }

  @Test
  void zeroPercentAndNoFloorMeansNoRetry() {
    RetryBudget budget = new RetryBudget(0, 0, now::get);
    budget.request();
    assertThat(budget.tryRetry()).isFalse();
  }
}
