package io.teller.balancer.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.balancer.strategy.LoadCounts;
import io.teller.common.model.Change;
import io.teller.common.model.Instance;
import io.teller.common.model.InstanceStatus;
import io.teller.common.model.Route;
import io.teller.common.model.Service;
import io.teller.common.model.Snapshot;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A registry that restarted holds none of the self-registered instances until their backends
 * register again: the balancer keeps serving them for their TTL rather than emptying the service.
 */
class RegistryViewUnconfirmedTest {

  private static final long T0 = 1_700_000_000_000L;

  private final AtomicLong now = new AtomicLong(T0);
  private final Vertx vertx = Vertx.vertx();
  private final RegistryView view =
      new RegistryView(
          vertx,
          new InstantSource() {
            @Override
            public Instant instant() {
              return Instant.ofEpochMilli(now.get());
            }
          },
          LoadCounts.NONE,
          LoadCounts.NONE,
          3_600_000,
          routing -> {});
  private final Context context = vertx.getOrCreateContext();

  private <T> T onView(Supplier<T> action) {
    CompletableFuture<T> done = new CompletableFuture<>();
    context.runOnContext(
        v -> {
          try {
            done.complete(action.get());
          } catch (RuntimeException | Error e) {
            done.completeExceptionally(e);
          }
        });
    return done.join();
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static Service service() {
    return new Service(
        "shop",
        List.of(Route.prefix("/shop")),
        false,
        "round-robin",
        "client-address",
        null,
        null,
        0,
        true,
        null,
        null,
        null,
        1);
  }

  private static Instance instance(String id, Integer ttlSeconds, long revision) {
    Instant when = Instant.ofEpochMilli(T0);
    return new Instance(
        id,
        "shop",
        "127.0.0.1",
        8080,
        1,
        Map.of(),
        ttlSeconds,
        InstanceStatus.HEALTHY,
        Instance.SOURCE_REST,
        null,
        when,
        when,
        when,
        null,
        revision);
  }

  private void apply(Snapshot snapshot) {
    onView(
        () -> {
          view.apply(snapshot);
          return null;
        });
  }

  private Set<String> routed() {
    var pool = onView(view::build).pools().get("shop");
    return pool == null ? Set.of() : pool.endpoints().keySet();
  }

  @Test
  void selfRegisteredInstancesMissingFromASnapshotAreServedForTheirTtl() {
    apply(
        new Snapshot(
            10, List.of(service()), List.of(instance("a", 10, 5), instance("static", null, 6))));
    assertThat(routed()).containsExactlyInAnyOrder("a", "static");

    // The registry restarted: it restored the service (and would the static instance, were it
    // kept on disk: here it is gone too), not the self-registered one.
    now.addAndGet(1_000);
    apply(new Snapshot(20, List.of(service()), List.of()));
    assertThat(routed()).containsExactly("a");

    now.addAndGet(8_000);
    apply(new Snapshot(21, List.of(service()), List.of()));
    assertThat(routed()).containsExactly("a");

    // A TTL after it went missing, it did not come back: gone.
    now.addAndGet(2_001);
    apply(new Snapshot(22, List.of(service()), List.of()));
    assertThat(routed()).isEmpty();
  }

  @Test
  void anInstanceThatRegistersAgainIsConfirmedAndStays() {
    apply(new Snapshot(10, List.of(service()), List.of(instance("a", 10, 5))));
    apply(new Snapshot(20, List.of(service()), List.of()));
    now.addAndGet(3_000);
    apply(new Snapshot(30, List.of(service()), List.of(instance("a", 10, 25))));
    now.addAndGet(60_000);
    apply(new Snapshot(31, List.of(service()), List.of(instance("a", 10, 25))));
    assertThat(routed()).containsExactly("a");
  }

  @Test
  void anInstanceRemovedInTheRegistryGoesAtOnce() {
    apply(new Snapshot(10, List.of(service()), List.of(instance("a", 10, 5))));
    onView(
        () -> {
          view.apply(Change.instanceRemoved(instance("a", 10, 5), 11));
          return null;
        });
    assertThat(routed()).isEmpty();
  }

  @Test
  void instancesOfAServiceThatIsGoneGoWithIt() {
    apply(new Snapshot(10, List.of(service()), List.of(instance("a", 10, 5))));
    apply(new Snapshot(20, List.of(), List.of()));
    assertThat(onView(view::build).pools()).doesNotContainKey("shop");
  }
}
