package io.teller.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.common.testing.Poll;
import io.teller.registry.testing.Http;
import io.teller.registry.testing.RegistryNodes;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /readyz}: real registry nodes answer it once the cluster is safe; the answers for an
 * unsafe cluster and for a check that hangs come from a real HTTP server around a check that says
 * so, since a real cluster is unsafe only for moments that a test cannot hold.
 */
@Timeout(120)
class ReadinessTest {

  static Vertx vertx;

  @TempDir Path dataDir;

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopVertx() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void registryNodesAreReadyOnceTheClusterIsSafe() throws Exception {
    try (RegistryNodes nodes = new RegistryNodes("ready", dataDir)) {
      RegistryNodes.Node first = nodes.start();
      Http.Response alone = Http.get(first.url(Readiness.PATH));
      assertThat(alone.status()).isEqualTo(200);
      assertThat(alone.json())
          .isEqualTo(new JsonObject().put("status", "READY").put("clusterSafe", true));

      RegistryNodes.Node second = nodes.start();
      // Partitions migrate to the second node and its backups fill; then both say ready.
      for (RegistryNodes.Node node : new RegistryNodes.Node[] {first, second}) {
        Poll.until(
            Duration.ofSeconds(30),
            () -> assertThat(Http.get(node.url(Readiness.PATH)).status()).isEqualTo(200));
      }
      // Liveness is a separate answer.
      assertThat(Http.get(second.url("/healthz")).status()).isEqualTo(200);
    }
  }

  @Test
  void anUnsafeClusterIsNotReadyAndSaysWhy() throws Exception {
    try (Served served = serve(() -> false)) {
      Http.Response response = Http.get(served.url());
      assertThat(response.status()).isEqualTo(503);
      assertThat(response.json().getString("status")).isEqualTo("NOT_READY");
      assertThat(response.json().getBoolean("clusterSafe")).isFalse();
      assertThat(response.json().getString("reason"))
          .startsWith("partitions are migrating or backups are not in sync");
    }
  }

  @Test
  void aCheckThatHangsIsNotReadyAndHoldsOneWorkerForEveryProbe() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger checks = new AtomicInteger();
    try (Served served =
        serve(
            () -> {
              if (checks.incrementAndGet() > 1) {
                return true;
              }
              // The hung check answers "not safe" once released: a probe that shares its late
              // answer stays not ready, so only a new check can make a probe ready.
              release.await(30, TimeUnit.SECONDS);
              return false;
            })) {
      CompletableFuture<Http.Response> first =
          CompletableFuture.supplyAsync(() -> Http.get(served.url()));
      Http.Response second = Http.get(served.url());
      Http.Response firstResponse = first.get(10, TimeUnit.SECONDS);

      for (Http.Response response : new Http.Response[] {firstResponse, second}) {
        assertThat(response.status()).isEqualTo(503);
        assertThat(response.json().getString("reason"))
            .isEqualTo(
                "the cluster's safety check did not answer within "
                    + Readiness.CHECK_TIMEOUT_MS
                    + " ms");
      }
      assertThat(checks).hasValue(1);

      // Once the check answers, the next probe starts a new one.
      release.countDown();
      Poll.until(
          Duration.ofSeconds(10), () -> assertThat(Http.get(served.url()).status()).isEqualTo(200));
      assertThat(checks.get()).isGreaterThanOrEqualTo(2);
    }
  }

  private record Served(HttpServer server) implements AutoCloseable {
    String url() {
      return "http://127.0.0.1:" + server.actualPort() + Readiness.PATH;
    }

    @Override
    public void close() throws Exception {
      server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static Served serve(Callable<Boolean> clusterSafe) throws Exception {
    Router router = Router.router(vertx);
    router.get(Readiness.PATH).handler(new Readiness(vertx, clusterSafe)::handle);
    HttpServer server =
        vertx
            .createHttpServer()
            .requestHandler(router)
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    return new Served(server);
  }
}
