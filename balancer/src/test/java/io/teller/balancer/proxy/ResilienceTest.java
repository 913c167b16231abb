package io.teller.balancer.proxy;

import static io.teller.balancer.testing.BalancerHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.teller.balancer.testing.BalancerHarness;
import io.teller.balancer.testing.Prometheus;
import io.teller.common.model.Instance;
import io.teller.common.testing.OnContext;
import io.teller.common.testing.Poll;
import io.teller.registry.testing.Http;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * What keeps a balancer trustworthy when instances misbehave, and lets it be watched: per-service
 * timeouts, ejection on server errors, WebSocket tunnels, {@code /metrics} and the access log. A
 * real registry, balancer and backends in one JVM.
 */
@Timeout(120)
class ResilienceTest {

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

  record Answer(int status, String body, String backend) {}

  static Future<Answer> call(String uri) {
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
                .compose(
                    response ->
                        response
                            .body()
                            .map(
                                body ->
                                    new Answer(
                                        response.statusCode(),
                                        body.toString(),
                                        response.getHeader("x-backend")))));
  }

  static Answer get(String uri) {
    return await(call(uri));
  }

  static String admin(String path) {
    return Http.get("http://127.0.0.1:" + harness.adminPort() + path).body();
  }

  static double sample(String metrics, String name, String... labels) {
    return Prometheus.sample(metrics, name, labels);
  }

  @Test
  void metricsCountWhatWasSent() throws Exception {
    harness.defineService("metered", "{\"routes\": [{\"pathPrefix\": \"/metered\"}]}");
    int port =
        harness.backend(
            request ->
                request
                    .response()
                    .setStatusCode(request.path().endsWith("/missing") ? 404 : 200)
                    .end("ok"));
    String id = harness.register("metered", port, 1);
    // Every 200 this client gets from the service, the readiness poll's included.
    AtomicInteger ok = new AtomicInteger();
    Poll.until(
        Duration.ofSeconds(5),
        () -> {
          int status = get("/metered/ready").status();
          if (status == 200) {
            ok.incrementAndGet();
          }
          assertThat(status).isEqualTo(200);
        });
    for (int i = 0; i < 7; i++) {
      assertThat(get("/metered/x").status()).isEqualTo(200);
      ok.incrementAndGet();
    }
    for (int i = 0; i < 3; i++) {
      assertThat(get("/metered/missing").status()).isEqualTo(404);
    }
    // An answer is counted when the balancer has ended it, which may be just after the client has
    // it.
    Poll.until(
        Duration.ofSeconds(5),
        () -> {
          String after = admin("/metrics");
          assertThat(
                  sample(
                      after,
                      "teller_requests_total",
                      "service=\"metered\"",
                      "instance=\"" + id + "\"",
                      "status_class=\"2xx\""))
              .isEqualTo(ok.get());
          assertThat(
                  sample(
                      after,
                      "teller_requests_total",
                      "service=\"metered\"",
                      "instance=\"" + id + "\"",
                      "status_class=\"4xx\""))
              .isEqualTo(3);
          assertThat(sample(after, "teller_request_duration_seconds_count", "service=\"metered\""))
              .isGreaterThanOrEqualTo(ok.get() + 3);
          assertThat(after)
              .contains("teller_in_flight{instance=\"" + id + "\",service=\"metered\"}");
        });
    assertThat(get("/no-such-route").status()).isEqualTo(404);
    Poll.until(
        Duration.ofSeconds(5),
        () ->
            assertThat(
                    sample(
                        admin("/metrics"),
                        "teller_requests_total",
                        "service=\"none\"",
                        "status_class=\"4xx\""))
                .isGreaterThanOrEqualTo(1));
  }

  @Test
  void aServiceResponseTimeoutOverridesTheDefault() throws Exception {
    harness.defineService(
        "hasty",
        "{\"routes\": [{\"pathPrefix\": \"/hasty\"}], \"timeouts\": {\"responseMs\": 300}}");
    harness.register(
        "hasty",
        harness.backend(
            request -> {
              if (request.path().equals("/hasty/ping")) {
                request.response().end("pong");
              }
              // Anything else: never answered.
            }),
        1);
    Poll.until(Duration.ofSeconds(5), () -> assertThat(get("/hasty/ping").status()).isEqualTo(200));
    long started = System.nanoTime();
    Answer answer = get("/hasty/wait");
    long tookMillis = (System.nanoTime() - started) / 1_000_000;
    assertThat(answer.status()).isEqualTo(504);
    assertThat(answer.body()).contains("did not answer within 300 ms");
    // The harness's default is 3 s; the check runs every 100 ms.
    assertThat(tookMillis).isBetween(250L, 2_000L);
  }

  @Test
  void aStalledBodyIsCutByTheIdleTimeout() throws Exception {
    harness.defineService(
        "stall", "{\"routes\": [{\"pathPrefix\": \"/stall\"}], \"timeouts\": {\"idleMs\": 400}}");
    harness.register(
        "stall",
        harness.backend(
            request -> {
              if (request.path().equals("/stall/ping")) {
                request.response().end("pong");
                return;
              }
              request.response().setChunked(true).write("the start, then nothing");
            }),
        1);
    Poll.until(Duration.ofSeconds(5), () -> assertThat(get("/stall/ping").status()).isEqualTo(200));
    long started = System.nanoTime();
    Promise<Integer> status = Promise.promise();
    Future<Buffer> body =
        OnContext.run(
            harness.backendVertx(),
            () ->
                client
                    .request(
                        new RequestOptions()
                            .setHost("127.0.0.1")
                            .setPort(harness.httpsPort())
                            .setURI("/stall/stream"))
                    .compose(request -> request.send())
                    .compose(
                        response -> {
                          status.tryComplete(response.statusCode());
                          return response.body();
                        }));
    Throwable failure = awaitFailure(body);
    long tookMillis = (System.nanoTime() - started) / 1_000_000;
    assertThat(await(status.future())).isEqualTo(200);
    assertThat(failure).isNotNull();
    assertThat(tookMillis).isBetween(350L, 5_000L);
  }

  static Throwable awaitFailure(Future<?> future) {
    try {
      future
          .toCompletionStage()
          .toCompletableFuture()
          .get(30, java.util.concurrent.TimeUnit.SECONDS);
      return null;
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void consecutiveServerErrorsEjectAnInstanceUntilItsBackoffEnds() throws Exception {
    harness.defineService(
        "flaky", "{\"routes\": [{\"pathPrefix\": \"/flaky\"}], \"strategy\": \"round-robin\"}");
    AtomicInteger badCalls = new AtomicInteger();
    int bad =
        harness.backend(
            request -> {
              badCalls.incrementAndGet();
              request.response().setStatusCode(500).putHeader("x-backend", "bad").end("broken");
            });
    harness.register("flaky", bad, 1);
    harness.register("flaky", harness.namedBackend("good"), 1);
    Poll.until(Duration.ofSeconds(5), () -> assertThat(get("/flaky").backend()).isEqualTo("good"));
    // Round robin sends every other request to the bad one until its fifth 500 in a row.
    for (int i = 0; i < 12; i++) {
      get("/flaky");
    }
    assertThat(badCalls.get()).isEqualTo(5);
    String badId = Instance.idFor("flaky", "127.0.0.1", bad);
    JsonObject counts = new JsonObject(admin("/counts"));
    assertThat(counts.getJsonObject("instances").getJsonObject(badId).getBoolean("ejected"))
        .isTrue();
    for (int i = 0; i < 10; i++) {
      assertThat(get("/flaky").backend()).isEqualTo("good");
    }
    assertThat(sample(admin("/metrics"), "teller_ejections_total", "instance=\"" + badId + "\""))
        .isEqualTo(1);
    // Back by itself after the first ejection's 1 s.
    Poll.until(Duration.ofSeconds(5), () -> assertThat(get("/flaky").backend()).isEqualTo("bad"));
  }

  @Test
  void aWebSocketIsTunnelledBothWaysAndCountedWhileOpen() throws Exception {
    harness.defineService("chat", "{\"routes\": [{\"pathPrefix\": \"/chat\"}]}");
    int port =
        harness.backend(
            request -> {
              if (!"websocket".equalsIgnoreCase(request.getHeader("upgrade"))) {
                request.response().end("plain");
                return;
              }
              request
                  .toWebSocket()
                  .onSuccess(
                      socket ->
                          socket.textMessageHandler(
                              text ->
                                  socket.writeTextMessage(
                                      "echo:"
                                          + text
                                          + " via "
                                          + request.getHeader("x-forwarded-proto"))));
            });
    String id = harness.register("chat", port, 1);
    Poll.until(Duration.ofSeconds(5), () -> assertThat(get("/chat").status()).isEqualTo(200));

    WebSocketClient webSockets =
        harness
            .backendVertx()
            .createWebSocketClient(
                new WebSocketClientOptions()
                    .setSsl(true)
                    .setTrustOptions(harness.certificates().trustOptions()));
    List<String> received = java.util.Collections.synchronizedList(new ArrayList<>());
    WebSocket socket =
        await(
            OnContext.run(
                harness.backendVertx(),
                () ->
                    webSockets
                        .connect(
                            new WebSocketConnectOptions()
                                .setHost("127.0.0.1")
                                .setPort(harness.httpsPort())
                                .setURI("/chat/room")
                                .setSsl(true))
                        .onSuccess(connected -> connected.textMessageHandler(received::add))));
    await(socket.writeTextMessage("hello"));
    await(socket.writeTextMessage("again"));
    Poll.until(
        Duration.ofSeconds(5),
        () -> assertThat(received).containsExactly("echo:hello via https", "echo:again via https"));
    assertThat(
            new JsonObject(admin("/counts"))
                .getJsonObject("instances")
                .getJsonObject(id)
                .getLong("local"))
        .isEqualTo(1);

    await(socket.close());
    Poll.until(
        Duration.ofSeconds(5),
        () ->
            assertThat(
                    new JsonObject(admin("/counts"))
                        .getJsonObject("instances")
                        .getJsonObject(id)
                        .getLong("local"))
                .isZero());
    await(webSockets.close());
  }

  @Test
  void theAccessLogIsOffByDefaultAndSwitchesAtRunTime() throws Exception {
    harness.defineService("logged", "{\"routes\": [{\"pathPrefix\": \"/logged\"}]}");
    String id = harness.register("logged", harness.namedBackend("logged"), 1);
    Poll.until(Duration.ofSeconds(5), () -> assertThat(get("/logged").status()).isEqualTo(200));
    Logger logger = (Logger) LoggerFactory.getLogger("teller.access");
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    try {
      assertThat(new JsonObject(admin("/access-log")).getBoolean("enabled")).isFalse();
      get("/logged/quiet");
      // From loopback, but without the token: refused, and nothing switched.
      Http.Response refused =
          Http.send(
              HttpRequest.newBuilder(
                      URI.create(
                          "http://127.0.0.1:" + harness.adminPort() + "/access-log?enabled=true"))
                  .PUT(HttpRequest.BodyPublishers.noBody()));
      assertThat(refused.status()).isEqualTo(401);
      assertThat(refused.contentType()).isEqualTo("application/problem+json");
      assertThat(new JsonObject(admin("/access-log")).getBoolean("enabled")).isFalse();
      assertThat(
              Http.put("http://127.0.0.1:" + harness.adminPort() + "/access-log?enabled=maybe", "")
                  .status())
          .isEqualTo(400);
      assertThat(
              Http.put("http://127.0.0.1:" + harness.adminPort() + "/access-log?enabled=true", "")
                  .status())
          .isEqualTo(200);
      get("/logged/loud?x=1");
      Poll.until(Duration.ofSeconds(5), () -> assertThat(lines.list).hasSize(1));
      JsonObject line = new JsonObject(lines.list.get(0).getFormattedMessage());
      assertThat(line.getString("uri")).isEqualTo("/logged/loud?x=1");
      assertThat(line.getString("method")).isEqualTo("GET");
      assertThat(line.getInteger("status")).isEqualTo(200);
      assertThat(line.getString("service")).isEqualTo("logged");
      assertThat(line.getString("instance")).isEqualTo(id);
      assertThat(line.getLong("bytesOut")).isPositive();
      assertThat(line.getDouble("durationMs")).isPositive();
      assertThat(line.getInteger("attempts")).isEqualTo(1);
    } finally {
      Http.put("http://127.0.0.1:" + harness.adminPort() + "/access-log?enabled=false", "");
      logger.detachAppender(lines);
    }
  }
}
