package io.teller.registry.dashboard;

import io.teller.common.model.Change;
import io.teller.common.model.Instance;
import io.teller.common.model.RegistryContract;
import io.teller.common.model.Service;
import io.teller.common.model.Snapshot;
import io.teller.registry.core.RegistryService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The services and instances as the dashboard shows them, kept in this registry node's memory: the
 * registry's snapshot at start, then every published change, reconciled against a new snapshot now
 * and then (a missed change heals by itself, as in the balancers' view). A page that opens gets
 * this copy, not a read of the cluster's maps; the changes since the last tick go out in the next
 * one. Also keeps the timeline: the last {@link #TIMELINE} changes with a line saying what each one
 * did. Confined to the registry verticle's event loop.
 */
final class DashboardView {

  /** Changes kept for the timeline. */
  static final int TIMELINE = 100;

  private static final long RECONCILE_MS = 30_000;

  private final Vertx vertx;
  private final RegistryService registry;
  private final Map<String, JsonObject> services = new TreeMap<>();
  private final Map<String, JsonObject> instances = new HashMap<>();

  /** Revision at which a service or instance was removed, so an older "stored" cannot revive it. */
  private final Map<String, Long> removedAt = new HashMap<>();

  private final ArrayDeque<JsonObject> timeline = new ArrayDeque<>();
  private final List<JsonObject> pending = new ArrayList<>();
  private MessageConsumer<JsonObject> consumer;
  private long reconcileTimer = -1;

  DashboardView(Vertx vertx, RegistryService registry) {
    this.vertx = vertx;
    this.registry = registry;
  }

  /** Subscribes to the changes, then reads the first snapshot. */
  Future<Void> start() {
    consumer =
        vertx
            .eventBus()
            .consumer(
                RegistryContract.CHANGES, message -> apply(Change.fromJson(message.body()), true));
    reconcileTimer = vertx.setPeriodic(RECONCILE_MS, t -> reconcile());
    return consumer.completion().compose(v -> reconcile());
  }

  Future<Void> stop() {
    vertx.cancelTimer(reconcileTimer);
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }

  private Future<Void> reconcile() {
    return registry
        .snapshot()
        .onSuccess(this::apply)
        // A failed read is tried again at the next reconcile; the changes keep coming meanwhile.
        .otherwiseEmpty()
        .mapEmpty();
  }

  private static String key(String kind, String name) {
    return kind + "/" + name;
  }

  private long known(String key, JsonObject current) {
    long removed = removedAt.getOrDefault(key, 0L);
    return current == null ? removed : Math.max(removed, current.getLong("revision", 0L));
  }

  /** Applies a change if it is newer than what is known; returns whether it was. */
  boolean apply(Change change, boolean published) {
    boolean service = change.kind().equals(Change.SERVICE);
    String name = service ? change.service() : change.id();
    String key = key(change.kind(), name);
    JsonObject before = service ? services.get(name) : instances.get(name);
    if (change.revision() <= known(key, before)) {
      return false;
    }
    if (change.removed()) {
      (service ? services : instances).remove(name);
      removedAt.put(key, change.revision());
    } else {
      (service ? services : instances).put(name, change.data());
      removedAt.remove(key);
    }
    JsonObject json = change.toJson();
    pending.add(json);
    if (published) {
      String summary = summary(change, before);
      if (summary != null) {
        timeline.addLast(
            new JsonObject()
                .put("at", System.currentTimeMillis())
                .put("revision", change.revision())
                .put("kind", change.kind())
                .put("service", change.service())
                .put("id", change.id())
                .put("event", change.eventName())
                .put("summary", summary));
        while (timeline.size() > TIMELINE) {
          timeline.removeFirst();
        }
      }
    }
    return true;
  }

  /** One line saying what a change did, from what was known before it; null if nothing shows. */
  static String summary(Change change, JsonObject before) {
    if (change.kind().equals(Change.SERVICE)) {
      if (change.removed()) {
        return "service " + change.service() + " removed";
      }
      if (before == null) {
        return "service " + change.service() + " defined (" + strategy(change.data()) + ")";
      }
      return "service "
          + change.service()
          + " updated"
          + (Objects.equals(strategy(before), strategy(change.data()))
              ? ""
              : ": " + strategy(before) + " → " + strategy(change.data()));
    }
    String id = change.id();
    if (change.removed()) {
      return "instance " + id + " removed";
    }
    JsonObject now = change.data();
    if (before == null) {
      return "instance "
          + id
          + " registered at "
          + now.getString("host")
          + ":"
          + now.getInteger("port")
          + " ("
          + now.getString("status")
          + ", weight "
          + now.getInteger("weight")
          + ")";
    }
    List<String> what = new ArrayList<>();
    if (!Objects.equals(before.getString("status"), now.getString("status"))) {
      what.add(before.getString("status") + " → " + now.getString("status"));
    }
    if (!Objects.equals(before.getInteger("weight"), now.getInteger("weight"))) {
      what.add("weight " + before.getInteger("weight") + " → " + now.getInteger("weight"));
    }
    return what.isEmpty() ? null : "instance " + id + ": " + String.join(", ", what);
  }

  private static String strategy(JsonObject service) {
    return service.getString("strategy", Service.DEFAULT_STRATEGY);
  }

  /** Merges a snapshot in: what it has newer, and what it lacks that was not changed since. */
  void apply(Snapshot snapshot) {
    for (Service s : snapshot.services()) {
      apply(Change.serviceStored(s), false);
    }
    java.util.Set<String> ids = new java.util.HashSet<>();
    for (Instance i : snapshot.instances()) {
      ids.add(i.id());
      apply(Change.instanceStored(i), false);
    }
    java.util.Set<String> names = new java.util.HashSet<>();
    snapshot.services().forEach(s -> names.add(s.name()));
    // Gone from the snapshot and not changed since it was taken: removed while we missed it.
    for (String name : List.copyOf(services.keySet())) {
      if (!names.contains(name)
          && services.get(name).getLong("revision", 0L) <= snapshot.revision()) {
        services.remove(name);
        removedAt.put(key(Change.SERVICE, name), snapshot.revision());
        pending.add(Change.serviceRemoved(name, snapshot.revision()).toJson());
      }
    }
    for (String id : List.copyOf(instances.keySet())) {
      JsonObject instance = instances.get(id);
      if (!ids.contains(id) && instance.getLong("revision", 0L) <= snapshot.revision()) {
        Change removed =
            new Change(
                snapshot.revision(),
                Change.INSTANCE,
                true,
                instance.getString("service"),
                id,
                null);
        instances.remove(id);
        removedAt.put(key(Change.INSTANCE, id), snapshot.revision());
        pending.add(removed.toJson());
      }
    }
    removedAt.values().removeIf(r -> r <= snapshot.revision());
  }

  /** The changes applied since the last call, in the order applied. */
  List<JsonObject> takeChanges() {
    List<JsonObject> taken = List.copyOf(pending);
    pending.clear();
    return taken;
  }

  Map<String, JsonObject> services() {
    return services;
  }

  Map<String, JsonObject> instances() {
    return instances;
  }

  JsonArray timeline() {
    return new JsonArray(List.copyOf(timeline));
  }
}
