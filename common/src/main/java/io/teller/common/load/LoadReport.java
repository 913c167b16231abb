package io.teller.common.load;

import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;

/**
 * One balancer's in-flight counts per instance, as it pushes them to its peers on {@link #ADDRESS}:
 * either the changed counts only, or ({@code full}) every count it has, replacing what a peer knew
 * of it.
 *
 * @param member the sending balancer's cluster member id
 * @param sequence grows with every report of that member; an older one is ignored
 * @param full whether {@code counts} is the whole state (else: changes only)
 * @param counts in-flight requests (and TCP connections) per instance id
 * @param oldestChangeMillis wall-clock time of the oldest change in this report (staleness)
 */
public record LoadReport(
    String member, long sequence, boolean full, Map<String, Long> counts, long oldestChangeMillis) {

  /** Published: load reports, and {@code hello}s from balancers that just started. */
  public static final String ADDRESS = "teller.balancer.load";

  public LoadReport {
    counts = Map.copyOf(counts);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject();
    counts.forEach(json::put);
    return new JsonObject()
        .put("member", member)
        .put("seq", sequence)
        .put("full", full)
        .put("counts", json)
        .put("at", oldestChangeMillis);
  }

  public static LoadReport fromJson(JsonObject json) {
    Map<String, Long> counts = new HashMap<>();
    json.getJsonObject("counts")
        .forEach(e -> counts.put(e.getKey(), ((Number) e.getValue()).longValue()));
    return new LoadReport(
        json.getString("member"),
        json.getLong("seq"),
        json.getBoolean("full"),
        counts,
        json.getLong("at"));
  }

  /** A balancer announcing itself: peers answer with a full report. */
  public static JsonObject hello(String member) {
    return new JsonObject().put("hello", member);
  }
}
