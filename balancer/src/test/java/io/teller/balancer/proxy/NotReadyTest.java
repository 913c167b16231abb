package io.teller.balancer.proxy;

import static io.teller.balancer.testing.BalancerHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.teller.balancer.counting.InFlight;
import io.teller.balancer.edge.EdgeLimits;
import io.teller.balancer.edge.EdgeRejections;
import io.teller.balancer.metrics.ProxyMetrics;
import io.teller.balancer.resilience.Ejections;
import io.teller.balancer.resilience.Resilience;
import io.teller.balancer.resilience.RetryBudget;
import io.teller.balancer.routing.Routing;
import io.teller.balancer.testing.BalancerHarness;
import io.teller.balancer.testing.TestCertificates;
import io.teller.balancer.tls.TlsOptions;
import io.teller.common.testing.OnContext;
import io.teller.common.testing.Poll;
import io.teller.common.testing.TestClusters;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.RequestOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A balancer that does not hold the registry's state yet says so: until its first snapshot is
 * applied, every request is answered 503 with {@code Retry-After: 1}, never "no route" (404). The
 * proxy verticle runs on its own, on real listeners, with the routing it is given.
 */
@Timeout(60)
class NotReadyTest {

  @TempDir Path dir;
  Vertx vertx = Vertx.vertx();

  @AfterEach
  void stop() {
    await(vertx.close());
  }

  record Answer(int status, String retryAfter, String body) {}

  @Test
  void beforeTheFirstSnapshotEveryRequestIs503WithRetryAfterThen404() {
    AtomicReference<Routing> routing = new AtomicReference<>(Routing.waiting());
    TestCertificates certificates = TestCertificates.create(dir);
    int httpPort = TestClusters.freePort();
    InFlight inFlight = new InFlight();
    ProxyMetrics metrics = new ProxyMetrics(new SimpleMeterRegistry(), inFlight, () -> 0);
    await(
        vertx.deployVerticle(
            new ProxyVerticle(
                new ProxyVerticle.Listeners(
                    "127.0.0.1",
                    TestClusters.freePort(),
                    httpPort,
                    false,
                    TlsOptions.of(certificates.issue("localhost").pair()),
                    new ProxyHandler.Defaults(1_000, 1_000, 1_000),
                    10_000,
                    EdgeLimits.defaults(),
                    1_000,
                    ProxyHandler.RequestRules.DEFAULTS),
                new ProxyVerticle.Shared(
                    routing::get,
                    inFlight,
                    new Resilience(new Ejections(), new RetryBudget(20, 10), metrics, 2),
                    metrics,
                    new AccessLog(false),
                    new EdgeRejections(metrics.registry(), (client, reason) -> {}),
                    new AtomicInteger(),
                    new AtomicInteger(),
                    inFlight,
                    null))));
    HttpClient client = vertx.createHttpClient();

    for (String uri : new String[] {"/", "/shop/cart", "/anything?at=all"}) {
      Answer answer = get(client, httpPort, uri);
      assertThat(answer.status()).isEqualTo(503);
      assertThat(answer.retryAfter()).isEqualTo("1");
      assertThat(answer.body())
          .isEqualTo("the balancer has not received the registry's state yet; retry in a second\n");
    }

    // The registry's state arrives, with no service in it: now "no route" is the truth.
    routing.set(Routing.empty());
    Answer answer = get(client, httpPort, "/shop/cart");
    assertThat(answer.status()).isEqualTo(404);
    assertThat(answer.retryAfter()).isNull();
  }

  @Test
  void aBalancerThatReceivedAnEmptyRegistrysStateAnswers404() throws Exception {
    // The registry's first snapshot changes nothing in an empty view; it must still count.
    try (BalancerHarness harness = new BalancerHarness(dir, true)) {
      HttpClient client =
          vertx.createHttpClient(
              new HttpClientOptions()
                  .setSsl(true)
                  .setTrustOptions(harness.certificates().trustOptions()));
      Poll.until(
          Duration.ofSeconds(10),
          () -> assertThat(get(client, harness.httpsPort(), "/").status()).isEqualTo(404));
    }
  }

  Answer get(HttpClient client, int port, String uri) {
    return await(
        OnContext.run(
            vertx,
            () ->
                client
                    .request(new RequestOptions().setHost("127.0.0.1").setPort(port).setURI(uri))
                    .compose(request -> request.send())
                    .compose(
                        response ->
                            response
                                .body()
                                .map(
                                    body ->
                                        new Answer(
                                            response.statusCode(),
                                            response.getHeader("retry-after"),
                                            body.toString())))));
  }
}
