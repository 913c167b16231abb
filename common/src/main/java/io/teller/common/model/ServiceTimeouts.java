package io.teller.common.model;

import io.vertx.core.json.JsonObject;
import java.util.Set;

/**
 * A service's own proxy timeouts; each one left out (null) takes the balancer's default, so one
 * slow service can be given more time without loosening every other.
 *
 * @param connectMs how long to wait for a connection to an instance (TCP connect, or a free pooled
 *     one); then the request goes to another instance, or the client gets a {@code 502}
 * @param responseMs how long an instance may take to send its response headers once it has the
 *     request; then the client gets a {@code 504}
 * @param idleMs how long a connection to an instance may carry no byte either way, also while a
 *     body streams; then it is closed
 */
public record ServiceTimeouts(Integer connectMs, Integer responseMs, Integer idleMs) {

  /** Every timeout from the balancer's defaults. */
  public static final ServiceTimeouts DEFAULTS = new ServiceTimeouts(null, null, null);

  private static final Set<String> FIELDS = Set.of("connectMs", "responseMs", "idleMs");

  public static ServiceTimeouts fromJson(JsonObject json, String at) {
    if (json == null) {
      return DEFAULTS;
    }
    Json.onlyKnownFields(json, at, FIELDS);
    return new ServiceTimeouts(
        Json.optionalInteger(json, at, "connectMs", 1, 600_000),
        Json.optionalInteger(json, at, "responseMs", 1, 3_600_000),
        Json.optionalInteger(json, at, "idleMs", 1, 3_600_000));
  }

  /** Whether every timeout is the balancer's default. */
  public boolean isDefault() {
    return connectMs == null && responseMs == null && idleMs == null;
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject();
    if (connectMs != null) {
      json.put("connectMs", connectMs);
    }
    if (responseMs != null) {
      json.put("responseMs", responseMs);
    }
    if (idleMs != null) {
      json.put("idleMs", idleMs);
    }
    return json;
  }
}
