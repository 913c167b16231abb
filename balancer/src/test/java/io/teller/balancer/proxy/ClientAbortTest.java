package io.teller.balancer.proxy;

import static io.teller.balancer.testing.BalancerHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.teller.balancer.BalancerSettings;
import io.teller.balancer.testing.BalancerHarness;
import io.teller.common.testing.OnContext;
import io.teller.common.testing.Poll;
import io.teller.registry.testing.Http;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A client that goes away cancels its request at the backend: the backend holds every request open,
 * the client closes its connection (or resets its HTTP/2 stream), and the backend must see its own
 * connection closed, and the balancer's in-flight count for the instance must fall back to 0, well
 * before any timeout would have done it. The abort is the client's doing: it counts in {@code
 * teller_client_aborts_total}, never as the instance's failure nor toward its ejection.
 */
@Timeout(120)
class ClientAbortTest {

  /** Far beyond the deadlines below: only the client's leaving can explain a prompt close. */
  static final int RESPONSE_TIMEOUT_MS = 60_000;

  static final Duration DEADLINE = Duration.ofSeconds(5);

  @TempDir static Path dir;
  static BalancerHarness harness;
  static String instanceId;
  static final Map<String, Held> held = new ConcurrentHashMap<>();
  static final AtomicInteger quickServed = new AtomicInteger();
  HttpClient client;
  Figures before;

  /** What the backend saw of one request (by its x-request-id), from its event loop. */
  static final class Held {
    final CompletableFuture<Void> arrived = new CompletableFuture<>();
    final CompletableFuture<Void> closed = new CompletableFuture<>();
    final AtomicLong bodyBytes = new AtomicLong();
  }

  static Held held(String requestId) {
    return held.computeIfAbsent(requestId, id -> new Held());
  }

  @BeforeAll
  static void start() throws Exception {
    harness =
        new BalancerHarness(
            dir, true, Map.of(BalancerSettings.RESPONSE_TIMEOUT_MS, RESPONSE_TIMEOUT_MS));
    int port =
        harness.backend(
            request -> {
              if (request.path().equals("/abort/slow")) {
                // A slow endpoint: answers after 1.5 s, if the client is still there.
                harness.backendVertx().setTimer(1_500, t -> request.response().end("slow"));
                return;
              }
              String requestId = request.getHeader("x-request-id");
              if (requestId == null) {
                // The routing probe, and the requests after the aborts: answered at once.
                quickServed.incrementAndGet();
                request.response().end("ready");
                return;
              }
              Held h = held(requestId);
              // Fires when the connection to the balancer closes, the response unanswered.
              request.response().closeHandler(v -> h.closed.complete(null));
              request.handler(chunk -> h.bodyBytes.addAndGet(chunk.length()));
              h.arrived.complete(null);
              // Never answers.
            });
    harness.defineService("abort", "{\"routes\": [{\"pathPrefix\": \"/abort\"}]}");
    instanceId = harness.register("abort", port, 1);
    HttpClient probe = client(HttpVersion.HTTP_1_1);
    try {
      Poll.until(
          Duration.ofSeconds(10),
          () ->
              assertThat(
                      await(
                          probe
                              .request(options(HttpMethod.GET, null))
                              .compose(HttpClientRequest::send)
                              .map(HttpClientResponse::statusCode)))
                  .isEqualTo(200));
    } finally {
      await(probe.close());
    }
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @AfterEach
  void closeClient() {
    if (client != null) {
      await(client.close());
    }
  }

  /** What /metrics says of the service and its instance. */
  record Figures(double aborts, double upstreamFailures, double ejections) {
    static Figures now() {
      String metrics = Http.get("http://127.0.0.1:" + harness.adminPort() + "/metrics").body();
      double failures = 0;
      for (String kind : List.of("connect", "timeout", "reset")) {
        failures +=
            ResilienceTest.sample(
                metrics,
                "teller_upstream_failures_total",
                "instance=\"" + instanceId + "\"",
                "kind=\"" + kind + "\"");
      }
      return new Figures(
          ResilienceTest.sample(metrics, "teller_client_aborts_total", "service=\"abort\""),
          failures,
          ResilienceTest.sample(
              metrics, "teller_ejections_total", "instance=\"" + instanceId + "\""));
    }
  }

  @BeforeEach
  void figuresBefore() {
    before = Figures.now();
  }

  /** {@code aborts} more client aborts were counted, and nothing against the instance. */
  void assertCountedAsClientAborts(int aborts) throws Exception {
    Poll.until(
        DEADLINE,
        () -> assertThat(Figures.now().aborts() - before.aborts()).isEqualTo((double) aborts));
    Figures after = Figures.now();
    assertThat(after.upstreamFailures()).isEqualTo(before.upstreamFailures());
    assertThat(after.ejections()).isEqualTo(before.ejections());
  }

  static HttpClient client(HttpVersion version) {
    HttpClientOptions options =
        new HttpClientOptions().setSsl(true).setTrustOptions(harness.certificates().trustOptions());
    if (version == HttpVersion.HTTP_2) {
      options.setUseAlpn(true).setProtocolVersion(HttpVersion.HTTP_2);
    }
    return harness.backendVertx().createHttpClient(options);
  }

  static RequestOptions options(HttpMethod method, String requestId) {
    RequestOptions options =
        new RequestOptions()
            .setMethod(method)
            .setHost("127.0.0.1")
            .setPort(harness.httpsPort())
            .setURI("/abort/hold");
    if (requestId != null) {
      options.putHeader("x-request-id", requestId);
    }
    return options;
  }

  /** This balancer's in-flight count for the instance (0 once it is no longer listed). */
  static long inFlight() {
    JsonObject instances =
        new JsonObject(Http.get("http://127.0.0.1:" + harness.adminPort() + "/counts").body())
            .getJsonObject("instances");
    JsonObject entry = instances.getJsonObject(instanceId);
    return entry == null ? 0 : entry.getLong("local");
  }

  /** Sends a request the backend holds; returns it once the backend has it and it is counted. */
  HttpClientRequest hold(HttpVersion version, String requestId) throws Exception {
    client = client(version);
    HttpClientRequest request = await(client.request(options(HttpMethod.GET, requestId)));
    request.send();
    held(requestId).arrived.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    // Counted while open: the fall to 0 below is then the release, not a count never taken.
    Poll.until(DEADLINE, () -> assertThat(inFlight()).isEqualTo(1));
    return request;
  }

  void assertCancelledAtTheBackend(String requestId) throws Exception {
    held(requestId).closed.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    Poll.until(DEADLINE, () -> assertThat(inFlight()).isZero());
  }

  @Test
  void anHttp1ClientClosingItsConnectionClosesTheBackendConnection() throws Exception {
    String requestId = UUID.randomUUID().toString();
    HttpClientRequest request = hold(HttpVersion.HTTP_1_1, requestId);

    await(request.connection().close());

    assertCancelledAtTheBackend(requestId);
    assertCountedAsClientAborts(1);
  }

  @Test
  void anHttp2ClientResettingItsStreamClosesTheBackendConnection() throws Exception {
    String requestId = UUID.randomUUID().toString();
    HttpClientRequest request = hold(HttpVersion.HTTP_2, requestId);
    assertThat(request.version()).isEqualTo(HttpVersion.HTTP_2);

    // Only the stream goes: the connection stays open for the client's other requests.
    await(request.reset());

    assertCancelledAtTheBackend(requestId);
    assertCountedAsClientAborts(1);
  }

  @Test
  void aClientLeavingMidUploadClosesTheBackendConnection() throws Exception {
    String requestId = UUID.randomUUID().toString();
    client = client(HttpVersion.HTTP_1_1);
    HttpClientRequest request =
        await(
            client.request(
                options(HttpMethod.POST, requestId)
                    .putHeader("content-length", String.valueOf(10 * 1024 * 1024))));
    Future<Void> written = request.write(Buffer.buffer(new byte[256 * 1024]));
    await(written);
    Held h = held(requestId);
    h.arrived.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    Poll.until(
        DEADLINE,
        () -> {
          assertThat(h.bodyBytes.get()).isPositive();
          assertThat(inFlight()).isEqualTo(1);
        });

    await(request.connection().close());

    assertCancelledAtTheBackend(requestId);
    assertThat(h.bodyBytes.get()).isLessThan(10 * 1024 * 1024);
    assertCountedAsClientAborts(1);
  }

  @Test
  void twentyClientsGivingUpOnASlowEndpointNeverCountAgainstTheInstance() throws Exception {
    Logger logger = (Logger) LoggerFactory.getLogger("teller.access");
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    Http.put("http://127.0.0.1:" + harness.adminPort() + "/access-log?enabled=true", "");
    HttpClient h1 = client(HttpVersion.HTTP_1_1);
    HttpClient h2 = client(HttpVersion.HTTP_2);
    try {
      // Ten over HTTP/1.1 (the client closes its connection), ten over HTTP/2 (it resets its
      // stream), each giving up after 0.3 s on an endpoint that takes 1.5 s.
      List<Future<Integer>> gaveUp = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        HttpClient http = i % 2 == 0 ? h1 : h2;
        gaveUp.add(
            OnContext.run(
                harness.backendVertx(),
                () ->
                    http.request(
                            new RequestOptions()
                                .setHost("127.0.0.1")
                                .setPort(harness.httpsPort())
                                .setURI("/abort/slow")
                                .setIdleTimeout(300))
                        .compose(HttpClientRequest::send)
                        .map(HttpClientResponse::statusCode)));
      }
      for (Future<Integer> call : gaveUp) {
        assertThat(ResilienceTest.awaitFailure(call)).isNotNull();
      }

      assertCountedAsClientAborts(20);
      Poll.until(DEADLINE, () -> assertThat(inFlight()).isZero());
      JsonObject counts =
          new JsonObject(Http.get("http://127.0.0.1:" + harness.adminPort() + "/counts").body());
      assertThat(counts.getJsonObject("instances").getJsonObject(instanceId).getBoolean("ejected"))
          .isFalse();
      // The instance still gets the next requests.
      int servedBefore = quickServed.get();
      for (int i = 0; i < 5; i++) {
        assertThat(
                await(
                    OnContext.run(
                        harness.backendVertx(),
                        () ->
                            h1.request(options(HttpMethod.GET, null))
                                .compose(HttpClientRequest::send)
                                .map(HttpClientResponse::statusCode))))
            .isEqualTo(200);
      }
      assertThat(quickServed.get() - servedBefore).isEqualTo(5);
      // Each abort is logged with status 499 and the client's fault.
      Poll.until(
          DEADLINE,
          () ->
              assertThat(
                      lines.list.stream()
                          .map(line -> new JsonObject(line.getFormattedMessage()))
                          .filter(line -> line.getString("uri").equals("/abort/slow"))
                          .filter(line -> line.getInteger("status") == 499)
                          .filter(line -> "client".equals(line.getString("fault")))
                          .count())
                  .isEqualTo(20));
    } finally {
      Http.put("http://127.0.0.1:" + harness.adminPort() + "/access-log?enabled=false", "");
      logger.detachAppender(lines);
      await(h1.close());
      await(h2.close());
    }
  }
}
