package io.teller.common.model;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The registry's whole state at one revision: what a subscriber reconciles against when it
 * (re)joins or may have missed a change.
 */
public record Snapshot(long revision, List<Service> services, List<Instance> instances) {

  public Snapshot {
    services = List.copyOf(services);
    instances = List.copyOf(instances);
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("revision", revision)
        .put("services", new JsonArray(services.stream().map(Service::toJson).toList()))
        .put("instances", new JsonArray(instances.stream().map(Instance::toJson).toList()));
  }

  public static Snapshot fromJson(JsonObject json) {
    List<Service> services =
        json.getJsonArray("services").stream()
            .map(o -> Service.fromStored((JsonObject) o))
            .toList();
    List<Instance> instances =
        json.getJsonArray("instances").stream()
            .map(o -> Instance.fromJson((JsonObject) o))
            .toList();
    return new Snapshot(json.getLong("revision"), services, instances);
  }
}
