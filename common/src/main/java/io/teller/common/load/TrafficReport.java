package io.teller.common.load;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;

/**
 * One balancer's traffic of the last second or so, per instance, as it publishes it on {@link
 * #ADDRESS} once a second for the registries (the dashboard and {@code /v1/balancers}): answers,
 * 5xx answers, ejections and a latency histogram since its previous report, and whether each
 * instance is ejected now. An instance that had nothing of that is left out. Separate from the
 * {@link LoadReport}s (in-flight counts every few milliseconds), which every balancer reads for its
 * picks: balancers do not subscribe to this address, so they never pay for decoding it.
 *
 * @param member the balancer's cluster member id
 * @param sequence grows with every report of that member; an older one is ignored
 * @param atMillis wall-clock time the report was taken
 * @param intervalMillis the time it covers (since the previous report)
 * @param connections client connections the balancer has open now (HTTP and L4)
 * @param instances per instance id
 */
public record TrafficReport(
    String member,
    long sequence,
    long atMillis,
    long intervalMillis,
    long connections,
    Map<String, InstanceTraffic> instances) {

  /** Published once a second by every balancer; registries subscribe. */
  public static final String ADDRESS = "teller.balancer.traffic";

  public TrafficReport {
    instances = Map.copyOf(instances);
  }

  /**
   * One instance's traffic through one balancer over a report's interval.
   *
   * @param requests answers to clients (any status)
   * @param errors 5xx answers among them
   * @param ejections times this balancer ejected it
   * @param ejected whether this balancer leaves it out of its picks now
   * @param latency sparse histogram: bucket index ({@link LatencyBuckets}), count, index, count...
   */
  public record InstanceTraffic(
      long requests, long errors, long ejections, boolean ejected, long[] latency) {

    /** Adds this histogram's counts into {@code counts} (one per bucket). */
    public void addLatencyTo(long[] counts) {
      for (int i = 0; i + 1 < latency.length; i += 2) {
        int index = (int) latency[i];
        if (index >= 0 && index < counts.length) {
          counts[index] += latency[i + 1];
        }
      }
    }
  }

  // Compact on the wire: a thousand instances a second from every balancer.
  public JsonObject toJson() {
    JsonObject byInstance = new JsonObject();
    instances.forEach(
        (id, t) -> {
          JsonArray row =
              new JsonArray()
                  .add(t.requests())
                  .add(t.errors())
                  .add(t.ejections())
                  .add(t.ejected() ? 1 : 0);
          for (long v : t.latency()) {
            row.add(v);
          }
          byInstance.put(id, row);
        });
    return new JsonObject()
        .put("member", member)
        .put("seq", sequence)
        .put("at", atMillis)
        .put("ms", intervalMillis)
        .put("conns", connections)
        .put("i", byInstance);
  }

  public static TrafficReport fromJson(JsonObject json) {
    Map<String, InstanceTraffic> instances = new HashMap<>();
    json.getJsonObject("i")
        .forEach(
            e -> {
              JsonArray row = (JsonArray) e.getValue();
              long[] latency = new long[Math.max(0, row.size() - 4)];
              for (int i = 0; i < latency.length; i++) {
                latency[i] = row.getLong(4 + i);
              }
              instances.put(
                  e.getKey(),
                  new InstanceTraffic(
                      row.getLong(0),
                      row.getLong(1),
                      row.getLong(2),
                      row.getLong(3) != 0,
                      latency));
            });
    return new TrafficReport(
        json.getString("member"),
        json.getLong("seq"),
        json.getLong("at"),
        json.getLong("ms"),
        json.getLong("conns"),
        instances);
  }
}
