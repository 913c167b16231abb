package io.teller.registry.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.common.testing.Poll;
import io.teller.registry.testing.Http;
import io.teller.registry.testing.RegistryNodes;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Active health checks against a real HTTP backend whose health the test switches. */
@Timeout(120)
class HealthCheckTest {

  @TempDir Path dataDir;
  RegistryNodes nodes;
  Vertx backendVertx;
  HttpServer backend;
  final AtomicInteger healthStatus = new AtomicInteger(200);
  final List<String> probers = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    nodes = new RegistryNodes("health", dataDir);
    backendVertx = Vertx.vertx();
    backend =
        backendVertx
            .createHttpServer()
            .requestHandler(
                request -> {
                  probers.add(String.valueOf(request.getHeader("x-teller-prober")));
                  request.response().setStatusCode(healthStatus.get()).end();
                })
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    nodes.close();
    backendVertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  String register(RegistryNodes.Node node) {
    assertThat(
            Http.put(
                    node.url("/v1/services/checked"),
                    """
        {"healthCheck": {"path": "/health", "intervalMs": 100, "timeoutMs": 100,
                         "healthyThreshold": 2, "unhealthyThreshold": 3}}
        """)
                .status())
        .isEqualTo(201);
    Http.Response registered =
        Http.post(
            node.url("/v1/services/checked/instances"),
            "{\"host\": \"127.0.0.1\", \"port\": " + backend.actualPort() + "}");
    assertThat(registered.status()).isEqualTo(201);
    assertThat(registered.json().getString("status")).isEqualTo("starting");
    return registered.json().getString("id");
  }

  static String status(RegistryNodes.Node node, String id) {
    return Http.get(node.url("/v1/services/checked/instances/" + id)).json().getString("status");
  }

  static JsonObject instance(RegistryNodes.Node node, String id) {
    return Http.get(node.url("/v1/services/checked/instances/" + id)).json();
  }

  @Test
  void statusRisesAndFallsWithTheThresholds() throws Exception {
    RegistryNodes.Node node = nodes.start();
    String id = register(node);
    assertThat(instance(node, id).containsKey("eligibleAt")).isFalse();
    Poll.until(Duration.ofSeconds(5), () -> assertThat(status(node, id)).isEqualTo("healthy"));
    // Eligible from the moment the check passed, which is when the status changed.
    JsonObject healthy = instance(node, id);
    assertThat(healthy.getString("eligibleAt")).isEqualTo(healthy.getString("updatedAt"));
    assertThat(Instant.parse(healthy.getString("eligibleAt")))
        .isAfter(Instant.parse(healthy.getString("registeredAt")));

    healthStatus.set(503);
    Poll.until(Duration.ofSeconds(5), () -> assertThat(status(node, id)).isEqualTo("unhealthy"));
    int probesWhenUnhealthy = probers.size();
    assertThat(instance(node, id).containsKey("eligibleAt")).isFalse();

    healthStatus.set(200);
    Poll.until(Duration.ofSeconds(5), () -> assertThat(status(node, id)).isEqualTo("healthy"));
    // Two passes are needed to rise again, not one.
    assertThat(probers.size() - probesWhenUnhealthy).isGreaterThanOrEqualTo(2);
    // Healthy again after failing: eligible anew, so a slow start ramps it in again.
    assertThat(Instant.parse(instance(node, id).getString("eligibleAt")))
        .isAfter(Instant.parse(healthy.getString("eligibleAt")));
  }

  @Test
  void exactlyOneNodeProbesAndAnotherTakesOverWhenItDies() throws Exception {
    RegistryNodes.Node a = nodes.start();
    RegistryNodes.Node b = nodes.start();
    String id = register(a);
    Poll.until(Duration.ofSeconds(5), () -> assertThat(status(a, id)).isEqualTo("healthy"));

    // Once the second node has taken its share of the partitions (while they migrate, the old
    // and the new owner may both probe for a moment), every probe comes from one node.
    Poll.until(
        Duration.ofSeconds(20),
        () -> {
          assertThat(a.cluster().hazelcast().getPartitionService().isClusterSafe()).isTrue();
          assertThat(b.cluster().hazelcast().getPartitionService().isClusterSafe()).isTrue();
        });
    List<String> window = new ArrayList<>();
    Poll.until(
        Duration.ofSeconds(10),
        () -> {
          probers.clear();
          Thread.sleep(1000); // a window to count probes in, not a wait for an event
          window.clear();
          window.addAll(probers);
          assertThat(window).hasSizeGreaterThanOrEqualTo(5);
          assertThat(window.stream().distinct()).hasSize(1);
        });
    String prober = window.get(0);

    RegistryNodes.Node probing = prober.equals(a.cluster().memberId()) ? a : b;
    RegistryNodes.Node survivor = probing == a ? b : a;
    nodes.stop(probing);
    probers.clear();
    long stoppedAt = System.nanoTime();
    Poll.until(
        Duration.ofSeconds(10), () -> assertThat(probers).contains(survivor.cluster().memberId()));
    assertThat(Duration.ofNanos(System.nanoTime() - stoppedAt)).isLessThan(Duration.ofSeconds(10));
    assertThat(status(survivor, id)).isEqualTo("healthy");
  }
}
