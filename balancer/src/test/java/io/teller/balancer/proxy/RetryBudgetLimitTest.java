package io.teller.balancer.proxy;

import static io.teller.balancer.testing.BalancerHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.teller.balancer.BalancerSettings;
import io.teller.balancer.testing.BalancerHarness;
import io.teller.common.testing.Poll;
import io.teller.common.testing.TestClusters;
import io.teller.registry.testing.Http;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.NetServer;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A balancer whose retry budget is empty: a retryable failure reaches the client, and is counted;
 * the same for an L4 connection, whose retries spend the same budget.
 */
@Timeout(120)
class RetryBudgetLimitTest {

  @TempDir static Path dir;
  static BalancerHarness harness;
  static HttpClient client;

  @BeforeAll
  static void start() {
    harness =
        new BalancerHarness(
            dir,
            true,
            Map.of(
                BalancerSettings.RETRY_BUDGET_PERCENT, 0,
                BalancerSettings.RETRY_BUDGET_MIN_PER_SECOND, 0));
    client =
        harness
            .backendVertx()
            .createHttpClient(
                new HttpClientOptions()
                    .setSsl(true)
                    .setTrustOptions(harness.certificates().trustOptions()));
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  record Answer(int status, String body) {}

  static Answer get(String uri) {
    return await(
        io.teller.common.testing.OnContext.run(
            harness.backendVertx(),
            () ->
                client
                    .request(
                        new RequestOptions()
                            .setHost("127.0.0.1")
                            .setPort(harness.httpsPort())
                            .setURI(uri))
                    .compose(request -> request.send())
                    .compose(
                        response ->
                            response
                                .body()
                                .map(body -> new Answer(response.statusCode(), body.toString())))));
  }

  @Test
  void withNoBudgetARefusedConnectionIsNotRetried() throws Exception {
    harness.defineService(
        "frugal", "{\"routes\": [{\"pathPrefix\": \"/frugal\"}], \"strategy\": \"round-robin\"}");
    harness.register("frugal", harness.namedBackend("frugal-ok"), 1);
    Poll.until(Duration.ofSeconds(5), () -> assertThat(get("/frugal").status()).isEqualTo(200));
    harness.register("frugal", TestClusters.freePort(), 1); // nothing listens there
    // Until the refusing instance is picked: with retries, the client would never see its failure.
    Poll.until(
        Duration.ofSeconds(5),
        () -> {
          Answer answer = get("/frugal");
          assertThat(answer.status()).isEqualTo(502);
          assertThat(answer.body()).contains("connection refused");
        });
    String metrics = Http.get("http://127.0.0.1:" + harness.adminPort() + "/metrics").body();
    assertThat(metrics)
        .containsPattern(
            "teller_retries_total\\{outcome=\"over_budget\",service=\"frugal\"} [1-9]");
    assertThat(metrics).contains("teller_retries_total{outcome=\"sent\",service=\"frugal\"} 0.0");
  }

  @Test
  void withNoBudgetAnL4ConnectionToARefusingInstanceIsNotRetriedEither() throws Exception {
    int port = TestClusters.freePort();
    harness.defineService(
        "frugal-tcp", "{\"strategy\": \"round-robin\", \"tcpPort\": " + port + "}");
    NetServer alive =
        await(
            harness
                .backendVertx()
                .createNetServer()
                .connectHandler(socket -> socket.write("alive\n"))
                .listen(0, "127.0.0.1"));
    harness.register("frugal-tcp", alive.actualPort(), 1);
    // Until the balancer knows the live instance: before that it closes every connection at once,
    // which would pass for the refused one below.
    Poll.until(
        Duration.ofSeconds(10),
        () -> {
          try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(5_000);
            assertThat(new String(socket.getInputStream().readNBytes(6))).isEqualTo("alive\n");
          }
        });
    harness.register("frugal-tcp", TestClusters.freePort(), 1); // nothing listens there
    // Until the refusing instance is picked: with a retry, the client would get "alive".
    Poll.until(
        Duration.ofSeconds(10),
        () -> {
          try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(5_000);
            assertThat(socket.getInputStream().read()).isEqualTo(-1);
          }
        });
    String metrics = Http.get("http://127.0.0.1:" + harness.adminPort() + "/metrics").body();
    assertThat(metrics)
        .containsPattern(
            "teller_retries_total\\{outcome=\"over_budget\",service=\"frugal-tcp\"} [1-9]");
  }
}
