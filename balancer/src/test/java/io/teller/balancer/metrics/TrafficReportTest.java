package io.teller.balancer.metrics;

import static io.teller.balancer.testing.BalancerHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.teller.balancer.testing.BalancerHarness;
import io.teller.common.testing.OnContext;
import io.teller.common.testing.Poll;
import io.teller.registry.testing.Http;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a balancer answers reaches the registry, counted exactly: each answer once, 5xx as errors,
 * latency recorded, the balancer listed with its connections and rate ({@code /v1/balancers}), the
 * instance's {@code traffic} in the instance list; all within about a second of the answers.
 */
@Timeout(120)
class TrafficReportTest {

  @TempDir static Path dir;
  static BalancerHarness harness;
  static HttpClient client;

  @BeforeAll
  static void start() {
    harness = new BalancerHarness(dir, true);
    client =
        harness
            .backendVertx()
            .createHttpClient(
                new HttpClientOptions()
                    .setSsl(true)
                    .setKeepAlive(true)
                    .setTrustOptions(harness.certificates().trustOptions()));
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  void answersAreReportedToTheRegistryOnceEach() throws Exception {
    harness.defineService("traffic", "{\"routes\": [{\"pathPrefix\": \"/\"}]}");
    int port =
        harness.backend(
            request ->
                request
                    .response()
                    .setStatusCode(Integer.parseInt(request.getParam("status", "200")))
                    .end("ok"));
    String id = harness.register("traffic", port, 1);
    Poll.until(Duration.ofSeconds(10), () -> assertThat(get("/?status=200")).isEqualTo(200));
    // 1 answer above, then 40 more, every 10th a 503 (never enough in a row to eject).
    List<Future<Integer>> answers = new ArrayList<>();
    for (int i = 1; i <= 40; i++) {
      answers.add(call(i % 10 == 0 ? "/?status=503" : "/?status=200"));
    }
    await(Future.all(answers));
    long sent = System.nanoTime();
    Poll.until(
        Duration.ofSeconds(3),
        () -> {
          JsonObject traffic = instance(id).getJsonObject("traffic");
          // 4 of 41 answers over the last minute, exactly: none lost, none counted twice.
          assertThat(traffic.getDouble("errorRate"))
              .isEqualTo(Math.round(4 / 41.0 * 10_000) / 10_000.0);
          assertThat(traffic.getDouble("p50Ms")).isNotNull().isPositive();
          assertThat(traffic.getDouble("p99Ms")).isGreaterThanOrEqualTo(traffic.getDouble("p50Ms"));
          assertThat(traffic.getJsonArray("ejectedBy")).isEmpty();
        });
    assertThat(Duration.ofNanos(System.nanoTime() - sent)).isLessThan(Duration.ofSeconds(3));
    // The rate is the last report's; while traffic flows it is above 0.
    call("/?status=200");
    Poll.until(
        Duration.ofSeconds(3),
        () ->
            assertThat(instance(id).getJsonObject("traffic").getDouble("requestsPerSecond"))
                .isGreaterThan(0));
    JsonArray balancers = Http.get(harness.registry().url("/v1/balancers")).array();
    assertThat(balancers).hasSize(1);
    JsonObject balancer = balancers.getJsonObject(0);
    assertThat(balancer.getString("member")).isNotBlank();
    assertThat(balancer.getString("address")).contains(":");
    // The test's client keeps its connections open.
    assertThat(balancer.getLong("connections")).isPositive();
  }

  private static JsonObject instance(String id) {
    return Http.get(harness.registry().url("/v1/services/traffic/instances/" + id)).json();
  }

  private static Future<Integer> call(String uri) {
    return OnContext.run(
        harness.backendVertx(),
        () ->
            client
                .request(
                    new RequestOptions()
                        .setHost("127.0.0.1")
                        .setPort(harness.httpsPort())
                        .setURI(uri))
                .compose(request -> request.send())
                .compose(response -> response.body().map(b -> response.statusCode())));
  }

  private static int get(String uri) {
    return await(call(uri));
  }
}
