package io.teller.balancer.counting;

import static io.teller.balancer.testing.BalancerHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.teller.balancer.testing.BalancerHarness;
import io.teller.common.testing.Poll;
import io.teller.registry.testing.Http;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Two balancers and a registry: each sees the other's in-flight requests, within milliseconds. */
@Timeout(120)
class SharedCountsTest {

  @TempDir static Path dir;
  static BalancerHarness harness;
  static BalancerHarness.Extra second;
  static HttpClient client;
  static final ConcurrentLinkedQueue<Promise<Void>> held = new ConcurrentLinkedQueue<>();
  static String instanceId;

  @BeforeAll
  static void start() throws Exception {
    harness = new BalancerHarness(dir, true);
    second = harness.startBalancer("second");
    client =
        harness
            .backendVertx()
            .createHttpClient(
                new HttpClientOptions()
                    .setSsl(true)
                    .setTrustOptions(harness.certificates().trustOptions()),
                new PoolOptions().setHttp1MaxSize(50));
    // A backend that holds every request until the test lets it go.
    int port =
        harness.backend(
            request -> {
              Promise<Void> release = Promise.promise();
              held.add(release);
              release.future().onComplete(v -> request.response().end("done"));
            });
    harness.defineService(
        "held", "{\"routes\": [{\"pathPrefix\": \"/held\"}], \"strategy\": \"least-connections\"}");
    instanceId = harness.register("held", port, 1);
    Poll.until(
        Duration.ofSeconds(5),
        () -> {
          assertThat(counts(harness.adminPort()).getJsonObject("instances").containsKey(instanceId))
              .isTrue();
          assertThat(counts(second.adminPort()).getJsonObject("instances").containsKey(instanceId))
              .isTrue();
        });
  }

  @AfterAll
  static void stop() {
    held.forEach(p -> p.tryComplete());
    harness.close();
  }

  static JsonObject counts(int adminPort) {
    return new JsonObject(Http.get("http://127.0.0.1:" + adminPort + "/counts").body());
  }

  static JsonObject countsOf(int adminPort) {
    return counts(adminPort).getJsonObject("instances").getJsonObject(instanceId);
  }

  static List<Future<?>> send(int httpsPort, int n) {
    List<Future<?>> answers = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      answers.add(
          io.teller.common.testing.OnContext.run(
              harness.backendVertx(),
              () ->
                  client
                      .request(
                          new RequestOptions()
                              .setHost("127.0.0.1")
                              .setPort(httpsPort)
                              .setURI("/held"))
                      .compose(r -> r.send())
                      .compose(r -> r.body())));
    }
    return answers;
  }

  @Test
  void eachBalancerCountsTheOthersRequestsAndAllReturnToZero() throws Exception {
    List<Future<?>> first = send(harness.httpsPort(), 3);
    List<Future<?>> fromSecond = send(second.httpsPort(), 2);
    Poll.until(Duration.ofSeconds(5), () -> assertThat(held).hasSize(5));

    // Each sees its own exactly and the other's within a few milliseconds.
    Poll.until(
        Duration.ofSeconds(1),
        () -> {
          JsonObject a = countsOf(harness.adminPort());
          JsonObject b = countsOf(second.adminPort());
          assertThat(a.getLong("local")).isEqualTo(3);
          assertThat(a.getLong("total")).isEqualTo(5);
          assertThat(b.getLong("local")).isEqualTo(2);
          assertThat(b.getLong("total")).isEqualTo(5);
        });
    // The registry shows the load, per balancer.
    Poll.until(
        Duration.ofSeconds(1),
        () -> {
          JsonObject instance =
              Http.get(harness.registry().url("/v1/services/held/instances/" + instanceId)).json();
          assertThat(instance.getJsonObject("inFlight").getLong("total")).isEqualTo(5);
          assertThat(
                  instance.getJsonObject("inFlight").getJsonObject("byBalancer").getMap().values())
              .containsExactlyInAnyOrder(3, 2);
        });

    held.forEach(Promise::tryComplete);
    held.clear();
    await(Future.all(new ArrayList<>(first)));
    await(Future.all(new ArrayList<>(fromSecond)));
    Poll.until(
        Duration.ofSeconds(1),
        () -> {
          assertThat(countsOf(harness.adminPort()).getLong("total")).isZero();
          assertThat(countsOf(second.adminPort()).getLong("total")).isZero();
          JsonObject instance =
              Http.get(harness.registry().url("/v1/services/held/instances/" + instanceId)).json();
          assertThat(instance.getJsonObject("inFlight").getLong("total")).isZero();
        });
    JsonObject staleness = counts(harness.adminPort()).getJsonObject("peerStalenessMillis");
    assertThat(staleness.getLong("samples")).isPositive();
    assertThat(staleness.getLong("p50")).isLessThan(100);
  }

  @Test
  void aBalancerThatLeavesStopsCountingAtOnce() throws Exception {
    BalancerHarness.Extra third = harness.startBalancer("third");
    Poll.until(
        Duration.ofSeconds(5),
        () ->
            assertThat(counts(third.adminPort()).getJsonObject("instances").containsKey(instanceId))
                .isTrue());
    send(third.httpsPort(), 4);
    Poll.until(Duration.ofSeconds(5), () -> assertThat(held).hasSize(4));
    Poll.until(
        Duration.ofSeconds(1),
        () -> assertThat(countsOf(harness.adminPort()).getLong("total")).isEqualTo(4));

    harness.stop(third);
    // Its requests may still be open at the backend, but it no longer counts.
    Poll.until(
        Duration.ofSeconds(2),
        () -> assertThat(countsOf(harness.adminPort()).getLong("total")).isZero());
    held.forEach(Promise::tryComplete);
    held.clear();
  }
}
