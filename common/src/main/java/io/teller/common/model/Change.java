package io.teller.common.model;

import io.vertx.core.json.JsonObject;

/**
 * One change of the registry, as published on {@code RegistryContract.CHANGES} and sent over
 * server-sent events: a service or an instance was stored (created or updated) or removed. Every
 * change has its own revision, and revisions only grow, cluster-wide.
 *
 * @param revision the registry revision this change made
 * @param kind {@code service} or {@code instance}
 * @param removed true when the object is gone
 * @param service the service's name
 * @param id the instance id, or null for a service
 * @param data the object after the change, or null when removed
 */
public record Change(
    long revision, String kind, boolean removed, String service, String id, JsonObject data) {

  public static final String SERVICE = "service";
  public static final String INSTANCE = "instance";

  public static Change serviceStored(Service service) {
    return new Change(service.revision(), SERVICE, false, service.name(), null, service.toJson());
  }

  public static Change serviceRemoved(String name, long revision) {
    return new Change(revision, SERVICE, true, name, null, null);
  }

  public static Change instanceStored(Instance instance) {
    return new Change(
        instance.revision(), INSTANCE, false, instance.service(), instance.id(), instance.toJson());
  }

  public static Change instanceRemoved(Instance instance, long revision) {
    return new Change(revision, INSTANCE, true, instance.service(), instance.id(), null);
  }

  /** The SSE event name: e.g. {@code instance-stored}, {@code service-removed}. */
  public String eventName() {
    return kind + (removed ? "-removed" : "-stored");
  }

  public JsonObject toJson() {
    JsonObject json =
        new JsonObject()
            .put("revision", revision)
            .put("kind", kind)
            .put("removed", removed)
            .put("service", service);
    if (id != null) {
      json.put("id", id);
    }
    if (data != null) {
      json.put("data", data);
    }
    return json;
  }

  public static Change fromJson(JsonObject json) {
    return new Change(
        json.getLong("revision"),
        json.getString("kind"),
        json.getBoolean("removed"),
        json.getString("service"),
        json.getString("id"),
        json.getJsonObject("data"));
  }
}
