package io.teller.registry.store;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.MapEvent;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryEvictedListener;
import com.hazelcast.map.listener.EntryExpiredListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import com.hazelcast.map.listener.MapClearedListener;
import com.hazelcast.partition.MigrationListener;
import com.hazelcast.partition.MigrationState;
import com.hazelcast.partition.PartitionService;
import com.hazelcast.partition.ReplicaMigrationEvent;
import com.hazelcast.query.Predicates;
import io.teller.common.model.Instance;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The instances whose primary copy this member holds, kept by Hazelcast's local entry events rather
 * than read in full at each maintenance scan: reading and parsing every owned entry twice a second
 * was half of a loaded registry's CPU at 40,000 instances (JFR). A scan reads only the member's key
 * set, fetches the keys it has no value for, and parses what changed since it last looked.
 *
 * <p>Events can be missed while partitions move between members, so after any migration (and at the
 * first scan) every owned entry is read again. A value read by a scan never replaces one an event
 * delivered after the scan began: that event's write is at least as recent as the read. What this
 * class returns may trail the map by a moment; callers act on it only through writes that check
 * their reason again.
 */
public final class OwnedInstances {

  // A safety net under the events: Hazelcast drops events when its event queue is full.
  static final long READ_ALL_SECONDS = 30;
  private static final long READ_ALL_NANOS = TimeUnit.SECONDS.toNanos(READ_ALL_SECONDS);

  private final HazelcastInstance hazelcast;
  private final IMap<String, String> instances;
  // Values by id; a removed entry stays as a tombstone (json null) until a scan drops its key.
  private final Map<String, Owned> byId = new ConcurrentHashMap<>();
  private final AtomicLong events = new AtomicLong();
  private final AtomicBoolean readAll = new AtomicBoolean(true);
  private long lastReadAll = System.nanoTime();
  private UUID entryListener;
  private UUID migrationListener;

  private record Owned(String json, Instance parsed, long stamp) {}

  OwnedInstances(HazelcastInstance hazelcast, IMap<String, String> instances) {
    this.hazelcast = hazelcast;
    this.instances = instances;
  }

  /** The owned instances, in no particular order; blocks on the cluster (worker thread). */
  public synchronized List<Instance> read() {
    if (entryListener == null) {
      listen();
    }
    long now = System.nanoTime();
    if (now - lastReadAll > READ_ALL_NANOS) {
      readAll.set(true);
    }
    if (readAll.getAndSet(false)) {
      lastReadAll = now;
      long scanStart = events.get();
      // Copied: Hazelcast's key set deserializes its keys at each pass (contains() is a scan).
      Set<String> keys = new HashSet<>(instances.localKeySet());
      fetch(keys, scanStart);
      byId.keySet().retainAll(keys);
    }
    List<Instance> list = new ArrayList<>(byId.size());
    for (Map.Entry<String, Owned> entry : byId.entrySet()) {
      Owned owned = entry.getValue();
      if (owned.json() == null) {
        // Kept only while a read of every entry might have brought the removed one back.
        byId.remove(entry.getKey(), owned);
        continue;
      }
      Instance instance = owned.parsed();
      if (instance == null) {
        instance = Instance.fromJson(new JsonObject(owned.json()));
        byId.replace(entry.getKey(), owned, new Owned(owned.json(), instance, owned.stamp()));
      }
      list.add(instance);
    }
    return list;
  }

  /** Stops listening to the map and to migrations. */
  public synchronized void close() {
    try {
      if (entryListener != null) {
        instances.removeEntryListener(entryListener);
      }
      if (migrationListener != null) {
        hazelcast.getPartitionService().removeMigrationListener(migrationListener);
      }
    } catch (RuntimeException e) {
      // Hazelcast is already shutting down.
    }
    entryListener = null;
    migrationListener = null;
    byId.clear();
    readAll.set(true);
  }

  private void listen() {
    migrationListener =
        hazelcast
            .getPartitionService()
            .addMigrationListener(
                new MigrationListener() {
                  @Override
                  public void migrationStarted(MigrationState state) {}

                  @Override
                  public void migrationFinished(MigrationState state) {
                    readAll.set(true);
                  }

                  @Override
                  public void replicaMigrationCompleted(ReplicaMigrationEvent event) {
                    readAll.set(true);
                  }

                  @Override
                  public void replicaMigrationFailed(ReplicaMigrationEvent event) {
                    readAll.set(true);
                  }
                });
    entryListener = instances.addLocalEntryListener(new Events(), Predicates.alwaysTrue(), true);
  }

  /**
   * Reads {@code keys}, one {@code getAll} per partition: Hazelcast 5.3 hands every partition's
   * operation all the keys of a getAll and has each one hash them all to find its own.
   */
  private void fetch(Collection<String> keys, long scanStart) {
    Map<Integer, Set<String>> byPartition = new HashMap<>();
    PartitionService partitions = hazelcast.getPartitionService();
    for (String key : keys) {
      byPartition
          .computeIfAbsent(partitions.getPartition(key).getPartitionId(), p -> new HashSet<>())
          .add(key);
    }
    for (Set<String> group : byPartition.values()) {
      instances
          .getAll(group)
          .forEach(
              (id, json) ->
                  byId.compute(
                      id,
                      (k, known) -> {
                        if (known != null && known.stamp() > scanStart) {
                          return known; // an event since the scan began: as recent or more
                        }
                        if (known != null && json.equals(known.json())) {
                          return known; // keeps its parsed form
                        }
                        return new Owned(json, null, 0);
                      }));
    }
  }

  private final class Events
      implements EntryAddedListener<String, String>,
          EntryUpdatedListener<String, String>,
          EntryRemovedListener<String, String>,
          EntryEvictedListener<String, String>,
          EntryExpiredListener<String, String>,
          MapClearedListener {

    @Override
    public void entryAdded(EntryEvent<String, String> event) {
      stored(event);
    }

    @Override
    public void entryUpdated(EntryEvent<String, String> event) {
      stored(event);
    }

    @Override
    public void entryRemoved(EntryEvent<String, String> event) {
      gone(event);
    }

    @Override
    public void entryEvicted(EntryEvent<String, String> event) {
      gone(event);
    }

    @Override
    public void entryExpired(EntryEvent<String, String> event) {
      gone(event);
    }

    @Override
    public void mapCleared(MapEvent event) {
      readAll.set(true);
    }

    private void stored(EntryEvent<String, String> event) {
      byId.put(event.getKey(), new Owned(event.getValue(), null, events.incrementAndGet()));
    }

    private void gone(EntryEvent<String, String> event) {
      byId.put(event.getKey(), new Owned(null, null, events.incrementAndGet()));
    }
  }
}
