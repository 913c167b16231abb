package io.teller.registry.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.common.cluster.ClusterRole;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.model.Instance;
import io.teller.common.model.InstanceStatus;
import io.teller.common.testing.TestClusters;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What each registry member's maintenance sees as its own ({@link RegistryStore#localInstances}),
 * kept by entry events: on two real Hazelcast data members, every stored instance is owned by
 * exactly one of them, changes and removals show, and a member that leaves hands its share over.
 */
class OwnedInstancesTest {

  private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

  private final TestClusters clusters = new TestClusters("owned-instances");

  @AfterEach
  void stop() {
    clusters.close();
  }

  private static Instance instance(int port) {
    return Instance.registered(
            "svc",
            new Instance.Registration("10.0.0.1", port, 1, Map.of(), 30),
            InstanceStatus.HEALTHY,
            Instance.SOURCE_REST,
            null,
            NOW)
        .withRevision(port);
  }

  /**
   * Every owned instance of both members, by id, or null while one is owned by both (for a moment
   * while a partition moves, each member may still count it as its own).
   */
  private static Map<String, Instance> owned(RegistryStore... stores) {
    Map<String, Instance> all = new HashMap<>();
    for (RegistryStore store : stores) {
      for (Instance instance : store.localInstances()) {
        if (all.put(instance.id(), instance) != null) {
          return null;
        }
      }
    }
    return all;
  }

  /** Polls {@code read} until {@code done} holds of it or 30 s pass; returns the last value. */
  private static <T> T awaitValue(Supplier<T> read, Predicate<T> done) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    T value = read.get();
    while (!done.test(value) && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      value = read.get();
    }
    return value;
  }

  @Test
  void eachInstanceIsOwnedOnceAndChangesRemovalsAndALeavingMemberShow() {
    TellerCluster first = clusters.start(ClusterRole.DATA);
    TellerCluster second = clusters.start(ClusterRole.DATA);
    RegistryStore a = new RegistryStore(first.hazelcast());
    RegistryStore b = new RegistryStore(second.hazelcast());
    // Listening from the start, as maintenance does, before anything is written.
    assertThat(owned(a, b)).isEmpty();

    Set<String> ids = new HashSet<>();
    for (int port = 1000; port < 1300; port++) {
      Instance instance = instance(port);
      (port % 2 == 0 ? a : b).putInstance(instance);
      ids.add(instance.id());
    }
    // Hazelcast moves partitions to the second member in its own time, written to or not.
    Map<String, Instance> seen =
        awaitValue(
            () -> owned(a, b),
            m ->
                m != null
                    && m.keySet().equals(ids)
                    && !a.localInstances().isEmpty()
                    && !b.localInstances().isEmpty());
    assertThat(seen).as("owned by one member each").isNotNull();
    assertThat(seen.keySet()).isEqualTo(ids);
    assertThat(a.localInstances()).as("both members own a share").isNotEmpty();
    assertThat(b.localInstances()).isNotEmpty();

    // A change made through either member shows on the owner.
    Instance changed = instance(1201).withWeight(7, NOW.plusSeconds(1));
    a.putInstance(changed);
    seen = awaitValue(() -> owned(a, b), m -> m != null && m.get(changed.id()).weight() == 7);
    assertThat(seen).isNotNull();
    assertThat(seen.get(changed.id()).weight()).isEqualTo(7);

    // Removals show, and nothing else goes.
    Set<String> left = new HashSet<>(ids);
    for (int port = 1000; port < 1100; port++) {
      String id = instance(port).id();
      b.removeInstance(id);
      left.remove(id);
    }
    seen = awaitValue(() -> owned(a, b), m -> m != null && m.keySet().equals(left));
    assertThat(seen).isNotNull();
    assertThat(seen.keySet()).isEqualTo(left);

    // The second member leaves: its share (kept as Hazelcast's backup on the first) becomes the
    // first's, though no entry event says so.
    clusters.stop(second);
    List<String> alone =
        awaitValue(
            () -> a.localInstances().stream().map(Instance::id).toList(),
            l -> new HashSet<>(l).equals(left));
    assertThat(new HashSet<>(alone)).isEqualTo(left);
    assertThat(alone).hasSize(left.size());
    assertThat(
            a.localInstances().stream()
                .filter(i -> i.id().equals(changed.id()))
                .findFirst()
                .orElseThrow()
                .weight())
        .isEqualTo(7);
  }
}
