package io.teller.registry.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.teller.common.load.LatencyBuckets;
import io.teller.common.load.TrafficReport;
import io.teller.common.load.TrafficReport.InstanceTraffic;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The registry's sums over balancers and over time, without a cluster. */
class TrafficBoardTest {

  private static final long T0 = 1_700_000_000_000L; // at the start of a 5-second bin

  private final Set<String> touched = new HashSet<>();
  private final TrafficBoard board = new TrafficBoard(touched::add);

  private static InstanceTraffic traffic(long requests, long errors, long millis, boolean ejected) {
    return new InstanceTraffic(
        requests,
        errors,
        ejected ? 1 : 0,
        ejected,
        requests == 0 ? new long[0] : new long[] {LatencyBuckets.index(millis * 1000), requests});
  }

  private static TrafficReport report(String member, long seq, Map<String, InstanceTraffic> i) {
    return new TrafficReport(member, seq, T0, 1_000, 3, i);
  }

  @Test
  void ratesAddUpOverBalancersAndLatencyOverTheMinute() {
    board.apply(report("a", 1, Map.of("x", traffic(30, 3, 10, false))), T0);
    board.apply(report("b", 1, Map.of("x", traffic(10, 0, 100, true))), T0 + 200);
    TrafficBoard.Figures f = board.figures("x", T0 + 500);
    assertThat(f.requestsPerSecond()).isEqualTo(40);
    assertThat(f.byBalancer()).containsEntry("a", 30.0).containsEntry("b", 10.0);
    assertThat(f.errorRate()).isCloseTo(0.075, within(1e-9));
    // Within a bucket's width (a quarter at most) of the true values.
    assertThat(f.p50Millis()).isCloseTo(10, within(2.5));
    assertThat(f.p99Millis()).isCloseTo(100, within(25.0));
    assertThat(f.ejections()).isEqualTo(1);
    assertThat(f.ejectedBy()).containsExactly("b");
    assertThat(touched).contains("x");

    // The next second: a names nothing (its rate is 0); the minute still has every answer.
    touched.clear();
    board.apply(report("a", 2, Map.of()), T0 + 1_000);
    assertThat(touched).contains("x");
    f = board.figures("x", T0 + 1_100);
    assertThat(f.requestsPerSecond()).isEqualTo(10);
    assertThat(f.errorRate()).isCloseTo(0.075, within(1e-9));

    // A report older than the last one of its balancer changes nothing.
    assertThat(board.apply(report("a", 1, Map.of("x", traffic(99, 0, 1, false))), T0 + 1_200))
        .isFalse();

    // A balancer that leaves no longer counts; a minute later the latencies are gone too.
    board.forget("b");
    assertThat(board.figures("x", T0 + 1_300).requestsPerSecond()).isZero();
    TrafficBoard.Figures later = board.figures("x", T0 + 61_000);
    assertThat(later.p50Millis()).isNaN();
    assertThat(later.errorRate()).isZero();
    assertThat(later.ejections()).isEqualTo(1); // 5 minutes of ejections
  }

  @Test
  void sparklineBinsAndSilentBalancers() {
    board.apply(report("a", 1, Map.of("x", traffic(50, 0, 5, false))), T0 + 1_000);
    board.apply(report("a", 2, Map.of("x", traffic(50, 0, 5, false))), T0 + 2_000);
    long bin = TrafficBoard.binOf(T0);
    assertThat(board.ratesIn(bin)).containsEntry("x", 100.0 / TrafficBoard.BIN_SECONDS);
    double[] spark = board.sparkline("x", bin + 1);
    assertThat(spark).hasSize(TrafficBoard.BINS - 1);
    assertThat(spark[spark.length - 1]).isEqualTo(20.0);
    assertThat(board.balancers()).containsKey("a");
    board.sweep(T0 + 2_000 + TrafficBoard.SILENT_MILLIS + 1);
    assertThat(board.balancers()).isEmpty();
    board.sweep(T0 + 10 * 60_000);
    assertThat(board.active()).isEmpty();
  }
}
