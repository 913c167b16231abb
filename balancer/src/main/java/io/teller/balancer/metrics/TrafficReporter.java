package io.teller.balancer.metrics;

import io.teller.common.load.TrafficReport;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.Set;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Publishes this balancer's {@link TrafficReport} once a second for the registries: per instance,
 * the answers, 5xx answers, ejections and latency histogram recorded since the last report (from
 * {@link ProxyMetrics}), whether it is ejected now, and the balancer's open connections.
 *
 * <p>The report is taken and encoded on a worker thread, not on the event loop that pushes the
 * in-flight counts every few milliseconds ({@code LoadSharing}): with a thousand instances it is a
 * millisecond or two of work that those pushes never wait behind.
 */
public final class TrafficReporter {

  /** How often a report goes out: the dashboard's figures are never older than this. */
  public static final long INTERVAL_MILLIS = 1_000;

  private final Vertx vertx;
  private final ProxyMetrics metrics;
  private final Supplier<String> member;
  private final Function<Set<String>, Set<String>> ejectedAmong;
  private final LongSupplier connections;
  private long timer = -1;
  private long sequence;
  private long lastAt = System.currentTimeMillis();
  private boolean running;

  /**
   * @param member this balancer's cluster member id, read at each report
   * @param ejectedAmong the ids, among those given, that this balancer has ejected now
   * @param connections the client connections open now
   */
  public TrafficReporter(
      Vertx vertx,
      ProxyMetrics metrics,
      Supplier<String> member,
      Function<Set<String>, Set<String>> ejectedAmong,
      LongSupplier connections) {
    this.vertx = vertx;
    this.metrics = metrics;
    this.member = member;
    this.ejectedAmong = ejectedAmong;
    this.connections = connections;
  }

  public void start() {
    timer = vertx.setPeriodic(INTERVAL_MILLIS, t -> publishSoon());
  }

  public Future<Void> stop() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }

  private void publishSoon() {
    if (running) {
      return; // the last one is still being taken: a slow worker pool never piles reports up
    }
    running = true;
    vertx
        .executeBlocking(
            () -> {
              vertx.eventBus().publish(TrafficReport.ADDRESS, take().toJson());
              return null;
            },
            false)
        .onComplete(done -> running = false);
  }

  /** Takes the figures since the last report. */
  TrafficReport take() {
    long now = System.currentTimeMillis();
    long interval = Math.max(1, now - lastAt);
    lastAt = now;
    return new TrafficReport(
        member.get(),
        ++sequence,
        now,
        interval,
        connections.getAsLong(),
        metrics.takeTraffic(ejectedAmong));
  }
}
