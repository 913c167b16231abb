package io.teller.common.model;

import io.vertx.core.json.JsonObject;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An active HTTP health check: {@code GET path} every {@code intervalMs}, failing after {@code
 * timeoutMs} or on a status outside {@code expectedStatus} (e.g. {@code 200-399}). An instance
 * turns healthy after {@code healthyThreshold} successes in a row and unhealthy after {@code
 * unhealthyThreshold} failures in a row.
 */
public record HealthCheck(
    String path,
    int intervalMs,
    int timeoutMs,
    int healthyThreshold,
    int unhealthyThreshold,
    int expectedStatusMin,
    int expectedStatusMax) {

  public static final int DEFAULT_INTERVAL_MS = 5_000;
  public static final int DEFAULT_TIMEOUT_MS = 2_000;
  public static final int DEFAULT_HEALTHY_THRESHOLD = 2;
  public static final int DEFAULT_UNHEALTHY_THRESHOLD = 3;

  private static final Set<String> FIELDS =
      Set.of(
          "path",
          "intervalMs",
          "timeoutMs",
          "healthyThreshold",
          "unhealthyThreshold",
          "expectedStatus");
  private static final Pattern RANGE = Pattern.compile("([1-5]\\d\\d)(?:-([1-5]\\d\\d))?");

  /** Whether {@code status} counts as a pass. */
  public boolean passes(int status) {
    return status >= expectedStatusMin && status <= expectedStatusMax;
  }

  public static HealthCheck fromJson(JsonObject json, String at) {
    Json.onlyKnownFields(json, at, FIELDS);
    String path = Json.string(json, at, "path", "/health");
    if (!path.startsWith("/") || path.chars().anyMatch(c -> c <= ' ')) {
      throw new ValidationException(at + ".path", "must start with / and hold no spaces");
    }
    int interval = Json.integer(json, at, "intervalMs", DEFAULT_INTERVAL_MS, 100, 3_600_000);
    int timeout =
        Json.integer(json, at, "timeoutMs", Math.min(DEFAULT_TIMEOUT_MS, interval), 10, 600_000);
    if (timeout > interval) {
      throw new ValidationException(at + ".timeoutMs", "must not be longer than intervalMs");
    }
    int healthy = Json.integer(json, at, "healthyThreshold", DEFAULT_HEALTHY_THRESHOLD, 1, 100);
    int unhealthy =
        Json.integer(json, at, "unhealthyThreshold", DEFAULT_UNHEALTHY_THRESHOLD, 1, 100);
    String expected = Json.string(json, at, "expectedStatus", "200-399");
    Matcher m = RANGE.matcher(expected);
    if (!m.matches()) {
      throw new ValidationException(
          at + ".expectedStatus", "must be a status or a range, e.g. 200-399");
    }
    int min = Integer.parseInt(m.group(1));
    int max = m.group(2) == null ? min : Integer.parseInt(m.group(2));
    if (max < min) {
      throw new ValidationException(at + ".expectedStatus", "range must go from low to high");
    }
    return new HealthCheck(path, interval, timeout, healthy, unhealthy, min, max);
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("path", path)
        .put("intervalMs", intervalMs)
        .put("timeoutMs", timeoutMs)
        .put("healthyThreshold", healthyThreshold)
        .put("unhealthyThreshold", unhealthyThreshold)
        .put(
            "expectedStatus",
            expectedStatusMin == expectedStatusMax
                ? String.valueOf(expectedStatusMin)
                : expectedStatusMin + "-" + expectedStatusMax);
  }
}
