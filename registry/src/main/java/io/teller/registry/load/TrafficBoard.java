package io.teller.registry.load;

import io.teller.common.load.TrafficReport;
import io.teller.common.load.TrafficReport.InstanceTraffic;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * What the balancers' {@link TrafficReport}s say, all balancers together: per instance, answers per
 * second now (and each balancer's share), error rate and p50/p99 latency over the last minute,
 * ejections over the last 5 minutes, who ejects it now, and a rate per 5-second bin for a
 * sparkline; per balancer, its connections and rate. A balancer silent for {@link #SILENT_MILLIS}
 * (or gone from the cluster) no longer counts.
 *
 * <p>Confined to one event loop (the registry's), like the {@code LoadBoard} beside it.
 */
public final class TrafficBoard {

  /** A balancer that sent nothing for this long is left out. */
  public static final long SILENT_MILLIS = 5_000;

  /** Seconds per sparkline point. */
  public static final int BIN_SECONDS = TrafficWindow.BIN_SECONDS;

  /** Sparkline points kept (5 minutes). */
  public static final int BINS = TrafficWindow.BINS;

  /** One balancer's latest report, and when it arrived. */
  public record Balancer(TrafficReport last, long receivedAtMillis) {

    /** Its answers per second over its last report. */
    public double requestsPerSecond() {
      long total = 0;
      for (InstanceTraffic t : last.instances().values()) {
        total += t.requests();
      }
      return total * 1000.0 / last.intervalMillis();
    }
  }

  /**
   * One instance's figures.
   *
   * @param requestsPerSecond all balancers, over their last report (about a second)
   * @param byBalancer that rate per balancer member (those above 0)
   * @param errorRate 5xx among the answers of the last minute
   * @param p50Millis median latency of the last minute (NaN without answers)
   * @param p99Millis 99th percentile of the last minute (NaN without answers)
   * @param ejections over the last 5 minutes
   * @param ejectedBy the balancers that eject it now
   */
  public record Figures(
      double requestsPerSecond,
      Map<String, Double> byBalancer,
      double errorRate,
      double p50Millis,
      double p99Millis,
      long ejections,
      List<String> ejectedBy) {

    static final Figures NONE = new Figures(0, Map.of(), 0, Double.NaN, Double.NaN, 0, List.of());

    /** As the REST API shows it (an instance's {@code traffic}). */
    public JsonObject toJson() {
      JsonObject shares = new JsonObject();
      byBalancer.forEach((member, rate) -> shares.put(member, round(rate)));
      return new JsonObject()
          .put("requestsPerSecond", round(requestsPerSecond))
          .put("byBalancer", shares)
          .put("errorRate", Math.round(errorRate * 10_000) / 10_000.0)
          .put("p50Ms", Double.isNaN(p50Millis) ? null : round(p50Millis))
          .put("p99Ms", Double.isNaN(p99Millis) ? null : round(p99Millis))
          .put("ejections", ejections)
          .put("ejectedBy", new JsonArray(List.copyOf(ejectedBy)));
    }
  }

  private final Map<String, TrafficWindow> windows = new HashMap<>();
  private final Map<String, Balancer> balancers = new TreeMap<>();
  private final Consumer<String> touched;

  /**
   * @param touched told of every instance whose figures may have changed (called on this board's
   *     event loop)
   */
  public TrafficBoard(Consumer<String> touched) {
    this.touched = touched;
  }

  /** Applies a report; returns false if it was not newer than its balancer's last one. */
  public boolean apply(TrafficReport report, long nowMillis) {
    Balancer old = balancers.get(report.member());
    if (old != null && report.sequence() <= old.last().sequence()) {
      return false;
    }
    long bin = TrafficWindow.binOf(nowMillis);
    report
        .instances()
        .forEach(
            (id, traffic) -> {
              windows.computeIfAbsent(id, i -> new TrafficWindow()).add(bin, traffic);
              touched.accept(id);
            });
    if (old != null) {
      // Its rate for the instances it no longer names is now 0.
      old.last().instances().keySet().forEach(touched);
    }
    balancers.put(report.member(), new Balancer(report, nowMillis));
    return true;
  }

  /** Forgets a balancer (it left the cluster): its rates no longer count. */
  public void forget(String member) {
    Balancer gone = balancers.remove(member);
    if (gone != null) {
      gone.last().instances().keySet().forEach(touched);
    }
  }

  /**
   * Forgets balancers silent for {@link #SILENT_MILLIS}, and the windows of instances with nothing
   * in 5 minutes. Call now and then.
   */
  public void sweep(long nowMillis) {
    List<String> silent = new ArrayList<>();
    balancers.forEach(
        (member, b) -> {
          if (nowMillis - b.receivedAtMillis() > SILENT_MILLIS) {
            silent.add(member);
          }
        });
    silent.forEach(this::forget);
    long bin = TrafficWindow.binOf(nowMillis);
    windows.values().removeIf(w -> w.idleAt(bin));
  }

  /** The balancers that reported lately, by member id. */
  public Map<String, Balancer> balancers() {
    return Map.copyOf(balancers);
  }

  /** The figures of one instance at {@code nowMillis}. */
  public Figures figures(String id, long nowMillis) {
    TrafficWindow window = windows.get(id);
    double rate = 0;
    Map<String, Double> byBalancer = new TreeMap<>();
    List<String> ejectedBy = new ArrayList<>();
    for (Map.Entry<String, Balancer> entry : balancers.entrySet()) {
      InstanceTraffic traffic = entry.getValue().last().instances().get(id);
      if (traffic == null) {
        continue;
      }
      double share = traffic.requests() * 1000.0 / entry.getValue().last().intervalMillis();
      if (share > 0) {
        byBalancer.put(entry.getKey(), share);
        rate += share;
      }
      if (traffic.ejected()) {
        ejectedBy.add(entry.getKey());
      }
    }
    if (window == null) {
      return rate == 0 && ejectedBy.isEmpty()
          ? Figures.NONE
          : new Figures(rate, byBalancer, 0, Double.NaN, Double.NaN, 0, ejectedBy);
    }
    window.advance(TrafficWindow.binOf(nowMillis));
    return new Figures(
        rate,
        byBalancer,
        window.minuteErrorRate(),
        window.quantileMillis(0.5),
        window.quantileMillis(0.99),
        window.ejections(),
        ejectedBy);
  }

  /** The current bin number (seconds since the epoch / {@link #BIN_SECONDS}). */
  public static long binOf(long nowMillis) {
    return TrafficWindow.binOf(nowMillis);
  }

  /**
   * Answers per second in each complete bin before {@code bin}, oldest first ({@link #BINS} - 1
   * values); null for an instance with nothing in 5 minutes.
   */
  public double[] sparkline(String id, long bin) {
    TrafficWindow window = windows.get(id);
    return window == null ? null : window.ratesBefore(bin);
  }

  /** Answers per second of every instance with any in {@code bin}. */
  public Map<String, Double> ratesIn(long bin) {
    Map<String, Double> rates = new HashMap<>();
    windows.forEach(
        (id, window) -> {
          long n = window.requestsIn(bin);
          if (n > 0) {
            rates.put(id, (double) n / BIN_SECONDS);
          }
        });
    return rates;
  }

  /** The instances with a window (anything in the last 5 minutes). */
  public Set<String> active() {
    return Set.copyOf(windows.keySet());
  }

  /** Rounds to 2 decimals: what a person reads, and fewer bytes on the wire. */
  public static double round(double value) {
    return Math.round(value * 100) / 100.0;
  }
}
