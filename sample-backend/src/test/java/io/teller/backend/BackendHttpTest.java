package io.teller.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.backend.testing.Await;
import io.teller.backend.testing.Backends;
import io.teller.backend.testing.Backends.Deployed;
import io.teller.backend.testing.Http;
import io.teller.backend.testing.LogLines;
import io.teller.backend.testing.TestRegistry;
import io.teller.common.config.Setting;
import io.teller.common.model.Instance;
import io.teller.common.testing.Poll;
import io.teller.common.testing.TestClusters;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The backend's HTTP behaviour and its registration over the REST API (no cluster on the backend's
 * side), against a real registry in this JVM.
 */
@Timeout(60)
class BackendHttpTest {

  private static Path dataDir;
  private static TestRegistry registry;
  private static String registryUrl;

  private Vertx vertx;

  @BeforeAll
  static void startRegistry() throws Exception {
    dataDir = Files.createTempDirectory("backend-http");
    registry = new TestRegistry("backend-http", dataDir);
    registry.start();
    registryUrl = registry.url("");
  }

  @AfterAll
  static void stopRegistry() {
    if (registry != null) {
      registry.close();
    }
  }

  @BeforeEach
  void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stopBackends() {
    // Undeploys every backend of the test: each deregisters and stops.
    Await.result(vertx.close());
  }

  private Deployed backend(Map<Setting, Object> overrides) {
    return Backends.overRest(vertx, registryUrl, overrides);
  }

  @Test
  void aWindowOfOneServesOneAtATimeInArrivalOrder() throws Exception {
    Deployed backend = backend(Map.of(BackendSettings.CONCURRENCY, 1));
    long started = System.nanoTime();
    List<CompletableFuture<Long>> finished = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      finished.add(
          Http.getAsync(backend.url("/work?ms=100"))
              .thenApply(
                  r -> {
                    assertThat(r.status()).isEqualTo(200);
                    return System.nanoTime();
                  }));
    }
    CompletableFuture.allOf(finished.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
    long elapsedMs =
        TimeUnit.NANOSECONDS.toMillis(
            finished.stream().mapToLong(CompletableFuture::join).max().orElseThrow() - started);

    assertThat(elapsedMs)
        .as("five 100 ms requests one after the other")
        .isGreaterThanOrEqualTo(480);
    JsonObject stats = Http.get(backend.url("/stats")).json();
    assertThat(stats.getLong("served")).isEqualTo(5);
    assertThat(stats.getLong("waited")).isEqualTo(4);
    assertThat(stats.getInteger("maxInFlight")).isEqualTo(1);
    assertThat(stats.getInteger("inFlight")).isZero();
  }

  @Test
  void workAnswersTheAskedStatusAfterTheAskedTime() {
    Deployed backend = backend(Map.of());
    long started = System.nanoTime();
    Http.Response response = Http.get(backend.url("/work?ms=50&status=503"));
    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

    assertThat(response.status()).isEqualTo(503);
    assertThat(elapsedMs).isGreaterThanOrEqualTo(50);
    assertThat(response.json().getString("instance")).isEqualTo(backend.id());
    assertThat(Http.get(backend.url("/work?ms=soon")).status()).isEqualTo(400);
  }

  @Test
  void aWarmingUpBackendAnswersLaterAtFirstAndThenNot() throws Exception {
    long started = System.nanoTime();
    Deployed backend =
        backend(Map.of(BackendSettings.WARMUP_MS, 3_000, BackendSettings.WARMUP_DELAY_MS, 400));

    long sent = System.nanoTime();
    Http.Response cold = Http.get(backend.url("/work?ms=0"));
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
    long coldMs = cold.json().getLong("warmupMs");
    // Served at most this long after the backend started: at least its share of the 400 ms.
    double atMost = (double) TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) / 3_000;
    assertThat(coldMs)
        .isGreaterThanOrEqualTo(Math.round(400 * Math.pow(1 - Math.min(1, atMost), 2)));
    assertThat(tookMs).isGreaterThanOrEqualTo(coldMs);

    // Warm after 3 s: no delay any more.
    Poll.until(
        Duration.ofSeconds(10),
        () -> assertThat(Http.get(backend.url("/work?ms=0")).json().getLong("warmupMs")).isZero());
    assertThat(Http.get(backend.url("/health")).status()).isEqualTo(200);
  }

  @Test
  void postToWorkReadsTheBodyAndIsLoggedWithItsRequestId() {
    try (LogLines log = new LogLines("teller.backend")) {
      Deployed backend = backend(Map.of());
      Http.Response response =
          Http.send(
              Http.request(backend.url("/work?ms=10"))
                  .header("x-request-id", "order-42")
                  .POST(HttpRequest.BodyPublishers.ofString("x".repeat(100_000))));

      assertThat(response.status()).isEqualTo(200);
      assertThat(response.json().getLong("bodyBytes")).isEqualTo(100_000);
      assertThat(log.containing("received POST /work id=order-42")).hasSize(1);
      // GETs are not logged.
      Http.get(backend.url("/work"));
      assertThat(log.containing("received GET")).isEmpty();
    }
  }

  @Test
  void uploadHashesTheBodyAsItStreams() throws Exception {
    Deployed backend = backend(Map.of());
    byte[] body = new byte[3 * 1024 * 1024 + 17];
    new java.util.Random(5).nextBytes(body);
    Http.Response response =
        Http.send(
            Http.request(backend.url("/upload"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));

    assertThat(response.status()).isEqualTo(200);
    assertThat(response.json().getLong("bytes")).isEqualTo(body.length);
    assertThat(response.json().getString("sha256"))
        .isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body)));
    assertThat(Http.get(backend.url("/upload")).status()).isEqualTo(405);
  }

  @Test
  void aQueuedUploadIsReadWhole() throws Exception {
    // A window of one: the second upload waits, paused, and must lose nothing when let in.
    Deployed backend = backend(Map.of(BackendSettings.CONCURRENCY, 1));
    CompletableFuture<Http.Response> slow = Http.getAsync(backend.url("/work?ms=300"));
    Poll.until(
        Duration.ofSeconds(5),
        () ->
            assertThat(Http.get(backend.url("/stats")).json().getInteger("inFlight")).isEqualTo(1));
    byte[] body = new byte[1024 * 1024];
    new java.util.Random(6).nextBytes(body);
    Http.Response queued =
        Http.send(
            Http.request(backend.url("/upload"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));

    assertThat(slow.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
    assertThat(queued.status()).isEqualTo(200);
    assertThat(queued.json().getLong("bytes")).isEqualTo(body.length);
    assertThat(queued.json().getString("sha256"))
        .isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body)));
    assertThat(Http.get(backend.url("/stats")).json().getLong("waited")).isEqualTo(1);
  }

  @Test
  void downloadStreamsTheSeededPatternWithItsHashInATrailer() throws Exception {
    Deployed backend = backend(Map.of());
    long length = 3L * DownloadPattern.PERIOD + 12_345;
    HttpClient client = vertx.createHttpClient();
    MessageDigest received = MessageDigest.getInstance("SHA-256");
    long[] count = {0};
    HttpClientResponse response =
        Await.result(
            client
                .request(
                    HttpMethod.GET,
                    backend.verticle().actualPort(),
                    "127.0.0.1",
                    "/download?bytes=" + length + "&seed=99")
                .compose(HttpClientRequest::send)
                // Handlers set in the callback, on the response's own context, before any data
                // flows.
                .compose(
                    r ->
                        r.handler(
                                chunk -> {
                                  count[0] += chunk.length();
                                  received.update(chunk.getBytes());
                                })
                            .end()
                            .map(r)));

    // The pattern as documented, generated here without DownloadPattern.
    byte[] period = new byte[DownloadPattern.PERIOD];
    new SplittableRandom(99).nextBytes(period);
    MessageDigest expected = MessageDigest.getInstance("SHA-256");
    for (long i = 0; i < length; i++) {
      expected.update(period[(int) (i % DownloadPattern.PERIOD)]);
    }
    String expectedHex = HexFormat.of().formatHex(expected.digest());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(count[0]).isEqualTo(length);
    assertThat(HexFormat.of().formatHex(received.digest())).isEqualTo(expectedHex);
    assertThat(response.trailers().get("x-sha256")).isEqualTo(expectedHex);
    assertThat(DownloadPattern.sha256(99, length)).isEqualTo(expectedHex);
    assertThat(Http.get(backend.url("/download?bytes=-1")).status()).isEqualTo(400);
  }

  @Test
  void rootSaysWhoAnsweredAndWhatProxyHeadersItGot() {
    Deployed backend = backend(Map.of());
    Http.Response response =
        Http.send(
            HttpRequest.newBuilder(URI.create(backend.url("/")))
                .header("X-Forwarded-For", "203.0.113.7")
                .header("X-Forwarded-Proto", "https")
                .header("X-Forwarded-Host", "demo.example")
                .header("Forwarded", "for=203.0.113.7;proto=https")
                .header("X-Other", "not a proxy header"));

    assertThat(response.status()).isEqualTo(200);
    JsonObject body = response.json();
    int port = backend.verticle().actualPort();
    assertThat(body.getString("instance")).isEqualTo(Instance.idFor("sample", "127.0.0.1", port));
    assertThat(body.getString("service")).isEqualTo("sample");
    assertThat(body.getString("address")).isEqualTo("127.0.0.1:" + port);
    assertThat(body.getLong("served")).isEqualTo(1);
    assertThat(body.getInteger("inFlight")).isEqualTo(1);
    assertThat(body.getJsonObject("forwarded"))
        .isEqualTo(
            new JsonObject()
                .put("x-forwarded-for", "203.0.113.7")
                .put("x-forwarded-proto", "https")
                .put("x-forwarded-host", "demo.example")
                .put("forwarded", "for=203.0.113.7;proto=https"));
  }

  @Test
  void theWebSocketEchoesWhatItGets() throws Exception {
    Deployed backend = backend(Map.of());
    CompletableFuture<String> echoed = new CompletableFuture<>();
    WebSocket ws =
        Http.client()
            .newWebSocketBuilder()
            .buildAsync(
                URI.create("ws://127.0.0.1:" + backend.verticle().actualPort() + "/ws"),
                new WebSocket.Listener() {
                  private final StringBuilder text = new StringBuilder();

                  @Override
                  public CompletionStage<?> onText(
                      WebSocket socket, CharSequence data, boolean last) {
                    text.append(data);
                    if (last) {
                      echoed.complete(text.toString());
                    }
                    socket.request(1);
                    return null;
                  }
                })
            .get(10, TimeUnit.SECONDS);
    ws.sendText("hello, teller", true).get(10, TimeUnit.SECONDS);

    assertThat(echoed.get(10, TimeUnit.SECONDS)).isEqualTo("hello, teller");
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(10, TimeUnit.SECONDS);
    assertThat(Http.get(backend.url("/ws")).status()).isEqualTo(400);
  }

  @Test
  void registersOverRestHeartbeatsAndDefinesItsServiceWithTheRoute() throws Exception {
    Deployed backend =
        backend(
            Map.of(
                BackendSettings.SERVICE,
                "rest-demo",
                BackendSettings.TTL,
                1,
                BackendSettings.ROUTE,
                "/demo"));
    String instanceUrl = registry.url("/v1/services/rest-demo/instances/" + backend.id());

    JsonObject first = Http.get(instanceUrl).json();
    assertThat(first.getString("source")).isEqualTo("rest");
    assertThat(first.getString("status")).isEqualTo("healthy");
    assertThat(first.getInteger("ttlSeconds")).isEqualTo(1);
    assertThat(first.containsKey("member")).isFalse();
    assertThat(
            Http.get(registry.url("/v1/services/rest-demo"))
                .json()
                .getJsonArray("routes")
                .getJsonObject(0)
                .getString("pathPrefix"))
        .isEqualTo("/demo");

    // Heartbeats every 333 ms keep a 1 s TTL alive: the same registration, a later heartbeat.
    Instant registeredAt = Instant.parse(first.getString("registeredAt"));
    Poll.until(
        Duration.ofSeconds(10),
        () -> {
          JsonObject now = Http.get(instanceUrl).json();
          assertThat(Instant.parse(now.getString("registeredAt"))).isEqualTo(registeredAt);
          assertThat(Instant.parse(now.getString("lastHeartbeatAt")))
              .isAfter(registeredAt.plusMillis(2_000));
        });
  }

  @Test
  void anExistingServiceKeepsItsOwnRoutes() {
    assertThat(
            Http.put(
                    registry.url("/v1/services/defined"),
                    "{\"routes\":[{\"pathPrefix\":\"/mine\"}]}")
                .status())
        .isEqualTo(201);
    Deployed backend = backend(Map.of(BackendSettings.SERVICE, "defined"));

    assertThat(Http.get(registry.url("/v1/services/defined/instances/" + backend.id())).status())
        .isEqualTo(200);
    assertThat(
            Http.get(registry.url("/v1/services/defined"))
                .json()
                .getJsonArray("routes")
                .getJsonObject(0)
                .getString("pathPrefix"))
        .isEqualTo("/mine");
  }

  @Test
  void healthAnswers503WhileDrainingAndOpenRequestsStillFinish() throws Exception {
    Deployed backend = backend(Map.of(BackendSettings.SERVICE, "drain-rest"));
    assertThat(Http.get(backend.url("/health")).status()).isEqualTo(200);
    CompletableFuture<Http.Response> slow = Http.getAsync(backend.url("/work?ms=800"));
    Poll.until(
        Duration.ofSeconds(5),
        () ->
            assertThat(Http.get(backend.url("/stats")).json().getInteger("inFlight")).isEqualTo(1));

    Future<Void> undeployed = backend.undeploy();
    Poll.until(
        Duration.ofSeconds(5),
        () -> {
          Http.Response health = Http.get(backend.url("/health"));
          assertThat(health.status()).isEqualTo(503);
          assertThat(health.body()).isEqualTo("draining\n");
        });
    Poll.until(
        Duration.ofSeconds(5),
        () ->
            assertThat(
                    Http.get(registry.url("/v1/services/drain-rest/instances/" + backend.id()))
                        .json()
                        .getString("status"))
                .isEqualTo("draining"));
    assertThat(slow.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
    Await.result(undeployed);
  }

  @Test
  void waitsForAnUnreachableRegistryAndSaysSoOnceEachWay() throws Exception {
    int port = TestClusters.freePort();
    String url = "http://127.0.0.1:" + port;
    try (LogLines log = new LogLines("teller.backend")) {
      Deployed backend = Backends.overRest(vertx, url, Map.of(BackendSettings.SERVICE, "late"));
      Poll.until(
          Duration.ofSeconds(5),
          () -> assertThat(log.containing("lost the registry at " + url)).hasSize(1));
      // It serves meanwhile.
      assertThat(Http.get(backend.url("/")).status()).isEqualTo(200);

      registry.start(port);
      Poll.until(
          Duration.ofSeconds(15),
          () ->
              assertThat(Http.get(url + "/v1/services/late/instances/" + backend.id()).status())
                  .isEqualTo(200));
      Poll.until(
          Duration.ofSeconds(5),
          () -> assertThat(log.containing("registry is back at " + url)).hasSize(1));
      assertThat(log.containing("lost the registry at " + url)).hasSize(1);
      assertThat(
              log.containing(
                  "registered as "
                      + backend.id()
                      + " in service late at 127.0.0.1:"
                      + backend.verticle().actualPort()))
          .hasSize(1);
    }
  }
}
