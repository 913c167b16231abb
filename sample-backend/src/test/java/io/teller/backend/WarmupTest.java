package io.teller.backend;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class WarmupTest {

  @Test
  void theDelayFadesQuadraticallyToNothing() {
    AtomicLong nanos = new AtomicLong(5_000_000_000L);
    Warmup warmup = new Warmup(2_000, 400, nanos::get);

    assertThat(warmup.delayMs()).isEqualTo(400);
    nanos.addAndGet(500_000_000); // a quarter: (3/4)² of 400
    assertThat(warmup.delayMs()).isEqualTo(225);
    nanos.addAndGet(500_000_000); // half: (1/2)²
    assertThat(warmup.delayMs()).isEqualTo(100);
    nanos.addAndGet(800_000_000); // 90%: (1/10)²
    assertThat(warmup.delayMs()).isEqualTo(4);
    nanos.addAndGet(200_000_000);
    assertThat(warmup.delayMs()).isZero();
    nanos.addAndGet(60_000_000_000L);
    assertThat(warmup.delayMs()).isZero();
  }

  @Test
  void noWarmupMeansNoDelay() {
    assertThat(new Warmup(0, 400, System::nanoTime).delayMs()).isZero();
  }
}
