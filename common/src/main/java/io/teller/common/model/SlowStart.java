package io.teller.common.model;

import io.vertx.core.json.JsonObject;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * A service's slow start: an instance that has just become eligible for traffic is eased in over a
 * window instead of getting its full share at once, as Envoy's {@code slow_start_config} and
 * HAProxy's {@code slowstart} do.
 *
 * <p>The ramp, as Envoy defines it: the instance's effective weight is {@code weight × factor},
 * where {@code factor = max(minWeightPercent / 100, (elapsed / windowMs)^(1 / aggression))} while
 * {@code elapsed < windowMs}, and 1 afterwards. {@code elapsed} counts from the moment the instance
 * became eligible: registered healthy, passed its health check after failing or starting, had its
 * weight raised from 0, or (on one balancer) came back from a passive ejection. Aggression 1 is a
 * straight line; above 1 the ramp climbs fast and then flattens, below 1 it starts slowly.
 *
 * <p>Cold start: an instance whose ramp would start less than {@code windowMs} after the service's
 * first eligible instance became eligible is part of the service's cold start and is not eased (see
 * {@link #eases}). When every instance of a service is new there is no warm instance to carry the
 * traffic instead; easing them all alike would change no share.
 *
 * @param windowMs how long the ramp lasts, 1 s to 1 h
 * @param aggression the shape of the ramp, 0.1 to 10
 * @param minWeightPercent the share of its weight a new instance gets at first, 1 to 100 (never 0:
 *     an instance that got nothing would never be tried)
 */
public record SlowStart(int windowMs, double aggression, int minWeightPercent) {

  public static final int DEFAULT_WINDOW_MS = 30_000;
  public static final double DEFAULT_AGGRESSION = 1.0;
  public static final int DEFAULT_MIN_WEIGHT_PERCENT = 10;

  private static final Set<String> FIELDS = Set.of("windowMs", "aggression", "minWeightPercent");

  public SlowStart {
    // fromJson names the field at fault first; this guards settings built in code.
    if (windowMs < 1_000 || windowMs > 3_600_000) {
      throw new IllegalArgumentException("windowMs must be 1000 to 3600000, got " + windowMs);
    }
    if (!(aggression >= 0.1 && aggression <= 10)) {
      throw new IllegalArgumentException("aggression must be 0.1 to 10, got " + aggression);
    }
    if (minWeightPercent < 1 || minWeightPercent > 100) {
      throw new IllegalArgumentException(
          "minWeightPercent must be 1 to 100, got " + minWeightPercent);
    }
  }

  /**
   * Reads a service's {@code slowStart} object; fields left out get their defaults.
   *
   * @param json the object, or null for none (slow start off)
   * @param at the object's path, for the field named in errors
   * @return the settings, or null when {@code json} is null
   */
  public static SlowStart fromJson(JsonObject json, String at) {
    if (json == null) {
      return null;
    }
    Json.onlyKnownFields(json, at, FIELDS);
    return new SlowStart(
        Json.integer(json, at, "windowMs", DEFAULT_WINDOW_MS, 1_000, 3_600_000),
        Json.number(json, at, "aggression", DEFAULT_AGGRESSION, 0.1, 10),
        Json.integer(json, at, "minWeightPercent", DEFAULT_MIN_WEIGHT_PERCENT, 1, 100));
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("windowMs", windowMs)
        .put("aggression", aggression)
        .put("minWeightPercent", minWeightPercent);
  }

  /**
   * The share of its weight an instance gets {@code elapsedMillis} after its ramp started: from
   * {@code minWeightPercent / 100} up to 1 at the end of the window. A negative elapsed time (a
   * ramp that starts later, or a clock behind the registry's) counts as 0.
   */
  public double factor(long elapsedMillis) {
    if (elapsedMillis >= windowMs) {
      return 1;
    }
    double time = Math.max(0, elapsedMillis) / (double) windowMs;
    double ramp = aggression == 1 ? time : Math.pow(time, 1 / aggression);
    return Math.max(minWeightPercent / 100.0, ramp);
  }

  /**
   * Whether an instance whose ramp would start at {@code startMillis} is eased in at all: only when
   * that is at least a window after the service's first instance became eligible. So a service
   * whose instances all start together (a cold start) is never eased; one that grows while it has
   * warm instances eases each newcomer. The answer depends only on the two moments, so it never
   * changes while the instances stay the same: an instance's factor never falls back.
   *
   * @param startMillis when the instance's ramp would start (epoch ms)
   * @param firstEligibleMillis when the service's longest-eligible instance became eligible (epoch
   *     ms; 0 when unknown)
   */
  public boolean eases(long startMillis, long firstEligibleMillis) {
    return startMillis - firstEligibleMillis >= windowMs;
  }

  /**
   * The factor of each instance that takes traffic, by id, at {@code nowMillis}, as the registry
   * sees it: from each instance's {@link Instance#eligibleAt()} (a balancer may also ease an
   * instance back in after an ejection of its own). An instance without {@code eligibleAt} counts
   * as eligible long ago.
   *
   * @param slowStart the service's settings, or null for none (every factor 1)
   * @param instances the service's instances
   */
  public static Map<String, Double> factors(
      SlowStart slowStart, Collection<Instance> instances, long nowMillis) {
    long first = Long.MAX_VALUE;
    for (Instance instance : instances) {
      if (instance.takesTraffic()) {
        first = Math.min(first, eligibleMillis(instance));
      }
    }
    Map<String, Double> factors = new HashMap<>();
    for (Instance instance : instances) {
      if (instance.takesTraffic()) {
        long start = eligibleMillis(instance);
        factors.put(
            instance.id(),
            slowStart == null || !slowStart.eases(start, first)
                ? 1.0
                : slowStart.factor(nowMillis - start));
      }
    }
    return factors;
  }

  /** When {@code instance} became eligible, epoch ms; 0 when unknown (long ago). */
  public static long eligibleMillis(Instance instance) {
    return instance.eligibleAt() == null ? 0 : instance.eligibleAt().toEpochMilli();
  }

  /** Keeps the copy of a factor shown in JSON short: three decimals. */
  public static double rounded(double factor) {
    return Math.round(factor * 1000) / 1000.0;
  }
}
