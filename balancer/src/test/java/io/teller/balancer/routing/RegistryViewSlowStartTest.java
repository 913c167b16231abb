package io.teller.balancer.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.balancer.strategy.Endpoint;
import io.teller.balancer.strategy.LoadCounts;
import io.teller.common.model.Instance;
import io.teller.common.model.InstanceStatus;
import io.teller.common.model.Route;
import io.teller.common.model.Service;
import io.teller.common.model.SlowStart;
import io.teller.common.model.Snapshot;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Where each endpoint's slow-start ramp begins, as the balancer's view of the registry says. */
class RegistryViewSlowStartTest {

  private static final long T0 = 1_700_000_000_000L;
  private static final SlowStart TEN_SECONDS = new SlowStart(10_000, 1.0, 10);

  private final Vertx vertx = Vertx.vertx();
  private final RegistryView view =
      new RegistryView(
          vertx,
          InstantSource.fixed(Instant.ofEpochMilli(T0 + 60_000)),
          LoadCounts.NONE,
          LoadCounts.NONE,
          60_000,
          routing -> {});

  /** The view's own event loop: its rebuild timers run there too, never alongside the test. */
  private final Context context = vertx.getOrCreateContext();

  /** Runs {@code action} on the view's event loop, as the balancer does, and waits for it. */
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

  private void apply(Snapshot snapshot) {
    onView(
        () -> {
          view.apply(snapshot);
          return null;
        });
  }

  private void ejected(String id, long untilMillis) {
    onView(
        () -> {
          view.ejected(id, untilMillis);
          return null;
        });
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static Service service(String name, SlowStart slowStart) {
    return new Service(
        name,
        List.of(Route.prefix("/" + name)),
        false,
        "round-robin",
        "client-address",
        null,
        null,
        0,
        true,
        null,
        null,
        slowStart,
        1);
  }

  private static Instance instance(String service, String id, InstanceStatus status, long at) {
    Instant when = Instant.ofEpochMilli(at);
    return new Instance(
        id,
        service,
        "127.0.0.1",
        8080,
        1,
        Map.of(),
        null,
        status,
        Instance.SOURCE_REST,
        null,
        when,
        when,
        when,
        null,
        2);
  }

  /** Each endpoint's ramp start of {@code service}, by id: "none" when it is not eased in. */
  private Map<String, String> rampFrom(String service) {
    Map<String, String> from = new TreeMap<>();
    for (Endpoint endpoint : onView(view::build).pools().get(service).endpoints().values()) {
      from.put(
          endpoint.id(),
          endpoint.ramps() ? "T0+" + (endpoint.rampFromMillis() - T0) / 1000 + "s" : "none");
    }
    return from;
  }

  @Test
  void aNewcomerRampsFromWhenTheRegistryMadeItEligibleAfterTheColdStart() {
    apply(
        new Snapshot(
            5,
            List.of(service("ramped", TEN_SECONDS), service("plain", null)),
            List.of(
                instance("ramped", "a", InstanceStatus.HEALTHY, T0),
                instance("ramped", "b", InstanceStatus.HEALTHY, T0 + 9_000),
                instance("ramped", "c", InstanceStatus.HEALTHY, T0 + 30_000),
                instance("ramped", "d", InstanceStatus.STARTING, T0 + 40_000),
                instance("plain", "p", InstanceStatus.HEALTHY, T0),
                instance("plain", "q", InstanceStatus.HEALTHY, T0 + 30_000))));

    // b became eligible within a window of a: the service's cold start, not eased.
    assertThat(rampFrom("ramped")).isEqualTo(Map.of("a", "none", "b", "none", "c", "T0+30s"));
    assertThat(rampFrom("plain")).isEqualTo(Map.of("p", "none", "q", "none"));
  }

  @Test
  void whenEveryInstanceIsNewNoneRamps() {
    apply(
        new Snapshot(
            5,
            List.of(service("fresh", TEN_SECONDS)),
            List.of(
                instance("fresh", "a", InstanceStatus.HEALTHY, T0 + 55_000),
                instance("fresh", "b", InstanceStatus.HEALTHY, T0 + 58_000))));

    assertThat(rampFrom("fresh")).isEqualTo(Map.of("a", "none", "b", "none"));
  }

  @Test
  void anInstanceBackFromAnEjectionRampsFromItsReturn() {
    apply(
        new Snapshot(
            5,
            List.of(service("ramped", TEN_SECONDS), service("plain", null)),
            List.of(
                instance("ramped", "a", InstanceStatus.HEALTHY, T0),
                instance("ramped", "c", InstanceStatus.HEALTHY, T0 + 30_000),
                instance("plain", "p", InstanceStatus.HEALTHY, T0))));

    ejected("a", T0 + 61_000);
    ejected("c", T0 + 62_000);
    ejected("p", T0 + 61_000);

    // Even the service's first instance: its return is long after the cold start.
    assertThat(rampFrom("ramped")).isEqualTo(Map.of("a", "T0+61s", "c", "T0+62s"));
    assertThat(rampFrom("plain")).isEqualTo(Map.of("p", "none"));
  }
}
