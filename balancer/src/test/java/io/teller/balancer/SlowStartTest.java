package io.teller.balancer;

import static io.teller.balancer.testing.BalancerHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.teller.balancer.testing.BalancerHarness;
import io.teller.common.model.SlowStart;
import io.teller.common.testing.OnContext;
import io.teller.common.testing.Poll;
import io.teller.registry.testing.Http;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Slow start through a whole balancer: the ramp of a newcomer as {@code /counts} and {@code
 * /metrics} show it, and an instance eased in again after this balancer ejected it. A real
 * registry, balancer and backends in one JVM.
 */
@Timeout(120)
class SlowStartTest {

  private static final SlowStart FIVE_SECONDS = new SlowStart(5_000, 1.0, 10);

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
                    .setTrustOptions(harness.certificates().trustOptions()));
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  static int get(String uri) {
    return await(
        OnContext.run(
            harness.backendVertx(),
            () ->
                client
                    .request(
                        new RequestOptions()
                            .setHost("127.0.0.1")
                            .setPort(harness.httpsPort())
                            .setURI(uri))
                    .compose(request -> request.send())
                    .compose(response -> response.body().map(body -> response.statusCode()))));
  }

  static JsonObject counted(String id) {
    return Http.get("http://127.0.0.1:" + harness.adminPort() + "/counts")
        .json()
        .getJsonObject("instances")
        .getJsonObject(id);
  }

  static long eligibleAt(String service, String id) {
    return Instant.parse(
            Http.get(harness.registry().url("/v1/services/" + service + "/instances/" + id))
                .json()
                .getString("eligibleAt"))
        .toEpochMilli();
  }

  /** The value of the gauge of {@code id}, or null when /metrics has none. */
  static Double gauge(String id) {
    String metrics = Http.get("http://127.0.0.1:" + harness.adminPort() + "/metrics").body();
    for (String line : metrics.split("\n")) {
      if (line.startsWith("teller_slow_start_factor{")
          && line.contains("instance=\"" + id + "\"")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return null;
  }

  @Test
  void aNewcomerRampsUpAndAnInstanceBackFromEjectionRampsAgain() throws Exception {
    harness.defineService(
        "ramp",
        "{\"routes\": [{\"pathPrefix\": \"/ramp\"}], \"strategy\": \"round-robin\","
            + " \"slowStart\": {\"windowMs\": 5000}}");
    HttpServer first =
        await(
            harness
                .backendVertx()
                .createHttpServer()
                .requestHandler(request -> request.response().end("first"))
                .listen(0, "127.0.0.1"));
    String firstId = harness.register("ramp", first.actualPort(), 1);
    long firstEligible = eligibleAt("ramp", firstId);
    // Within a window of the service's first instance, a newcomer is part of its cold start:
    // wait that window out.
    Poll.until(
        Duration.ofSeconds(15),
        () -> assertThat(System.currentTimeMillis()).isGreaterThanOrEqualTo(firstEligible + 5_000));

    String newcomerId = harness.register("ramp", harness.namedBackend("newcomer"), 1);
    long newcomerEligible = eligibleAt("ramp", newcomerId);
    Poll.until(Duration.ofSeconds(5), () -> assertThat(counted(newcomerId)).isNotNull());
    long askedAt = System.currentTimeMillis();
    JsonObject newcomer = counted(newcomerId);
    Double newcomerGauge = gauge(newcomerId);
    long answeredAt = System.currentTimeMillis();

    // The factor of the moment /counts answered: between the factors of asking and of the answer.
    double earliest = SlowStart.rounded(FIVE_SECONDS.factor(askedAt - newcomerEligible));
    double latest = SlowStart.rounded(FIVE_SECONDS.factor(answeredAt - newcomerEligible));
    assertThat(newcomer.getDouble("slowStartFactor")).isBetween(earliest, latest);
    assertThat(newcomerGauge).isBetween(earliest - 0.001, latest + 0.001);
    assertThat(counted(firstId).getDouble("slowStartFactor")).isEqualTo(1.0);
    assertThat(gauge(firstId)).isEqualTo(1.0);

    // The first instance goes away: this balancer ejects it, and eases it in again from when the
    // ejection ends (while the registry, which saw nothing, still gives it its full weight).
    await(first.close());
    Poll.until(
        Duration.ofSeconds(10),
        () -> {
          assertThat(get("/ramp/")).isEqualTo(200);
          assertThat(counted(firstId).getBoolean("ejected")).isTrue();
        });
    Poll.until(
        Duration.ofSeconds(5),
        () -> {
          assertThat(counted(firstId).getDouble("slowStartFactor")).isLessThan(1.0);
          assertThat(gauge(firstId)).isLessThan(1.0);
        });
    JsonObject listed =
        Http.get(harness.registry().url("/v1/services/ramp/instances")).array().stream()
            .map(JsonObject.class::cast)
            .filter(i -> i.getString("id").equals(firstId))
            .findFirst()
            .orElseThrow();
    assertThat(listed.getDouble("slowStartFactor")).isEqualTo(1.0);
  }
}
