package io.teller.common.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LatencyBucketsTest {

  @Test
  void everyLatencyFallsInTheBucketThatHoldsIt() {
    int last = 0;
    for (long micros = 64; micros < 200_000_000L; micros = micros * 11 / 10 + 1) {
      int index = LatencyBuckets.index(micros);
      assertThat(index).isBetween(last, LatencyBuckets.COUNT - 1);
      assertThat(LatencyBuckets.lowerMicros(index)).isLessThanOrEqualTo(micros);
      assertThat(LatencyBuckets.upperMicros(index)).isGreaterThan(micros);
      if (index > 0) {
        // At most a quarter of its lower bound wide.
        assertThat(LatencyBuckets.upperMicros(index) - LatencyBuckets.lowerMicros(index))
            .isLessThanOrEqualTo(LatencyBuckets.lowerMicros(index) / 4);
      }
      last = index;
    }
    assertThat(LatencyBuckets.index(0)).isZero();
    assertThat(LatencyBuckets.index(Long.MAX_VALUE)).isEqualTo(LatencyBuckets.COUNT - 1);
  }

  @Test
  void quantilesOfAKnownDistribution() {
    long[] counts = new long[LatencyBuckets.COUNT];
    // 1..1000 ms, 1000 answers: p50 is 500 ms, p99 990 ms.
    for (int ms = 1; ms <= 1000; ms++) {
      counts[LatencyBuckets.index(ms * 1000L)]++;
    }
    assertThat(LatencyBuckets.quantileMillis(counts, 0.5)).isCloseTo(500, within(500 * 0.125));
    assertThat(LatencyBuckets.quantileMillis(counts, 0.99)).isCloseTo(990, within(990 * 0.125));
    assertThat(LatencyBuckets.quantileMillis(new long[LatencyBuckets.COUNT], 0.5)).isNaN();
  }

  @Test
  void aTrafficReportSurvivesItsJson() {
    TrafficReport report =
        new TrafficReport(
            "m-1",
            7,
            1_000,
            1_003,
            12,
            Map.of(
                "shop-1",
                new TrafficReport.InstanceTraffic(10, 2, 1, true, new long[] {20, 7, 30, 3})));
    TrafficReport back = TrafficReport.fromJson(new JsonObject(report.toJson().encode()));
    assertThat(back.member()).isEqualTo("m-1");
    assertThat(back.sequence()).isEqualTo(7);
    assertThat(back.intervalMillis()).isEqualTo(1_003);
    assertThat(back.connections()).isEqualTo(12);
    TrafficReport.InstanceTraffic t = back.instances().get("shop-1");
    assertThat(t.requests()).isEqualTo(10);
    assertThat(t.errors()).isEqualTo(2);
    assertThat(t.ejections()).isEqualTo(1);
    assertThat(t.ejected()).isTrue();
    assertThat(t.latency()).containsExactly(20, 7, 30, 3);
  }
}
