package io.teller.balancer.proxy;

import static io.teller.balancer.testing.BalancerHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.teller.balancer.testing.BalancerHarness;
import io.teller.common.testing.Poll;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The balancer end to end in one JVM: a real registry, a real balancer with TLS from a test CA,
 * real backends, real HTTP/1.1 and HTTP/2 clients.
 */
@Timeout(180)
class BalancerTest {

  @TempDir static Path dir;
  static BalancerHarness harness;
  static HttpClient h1;
  static HttpClient h2;

  /** An answer, read whole. */
  record Answer(int status, MultiMap headers, String body, HttpVersion version) {
    JsonObject json() {
      return new JsonObject(body);
    }

    String backend() {
      return headers.get("x-backend");
    }
  }

  @BeforeAll
  static void start() {
    harness = new BalancerHarness(dir, true);
    h1 =
        harness
            .backendVertx()
            .createHttpClient(
                new HttpClientOptions()
                    .setSsl(true)
                    .setTrustOptions(harness.certificates().trustOptions())
                    .setKeepAlive(true),
                new PoolOptions().setHttp1MaxSize(32));
    h2 =
        harness
            .backendVertx()
            .createHttpClient(
                new HttpClientOptions()
                    .setSsl(true)
                    .setUseAlpn(true)
                    .setProtocolVersion(HttpVersion.HTTP_2)
                    .setTrustOptions(harness.certificates().trustOptions()));
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  static Future<Answer> call(HttpClient client, RequestOptions options, Buffer body) {
    return io.teller.common.testing.OnContext.run(
        harness.backendVertx(),
        () ->
            client
                .request(
                    options
                        .setHost("127.0.0.1")
                        .setPort(
                            options.getPort() == null ? harness.httpsPort() : options.getPort()))
                .compose(request -> body == null ? request.send() : request.send(body))
                .compose(
                    response ->
                        response
                            .body()
                            .map(
                                b ->
                                    new Answer(
                                        response.statusCode(),
                                        response.headers(),
                                        b.toString(),
                                        response.version()))));
  }

  static Answer get(String uri) {
    return await(call(h1, new RequestOptions().setURI(uri), null));
  }

  static Answer get(String uri, Map<String, String> headers) {
    RequestOptions options = new RequestOptions().setURI(uri);
    headers.forEach(options::putHeader);
    return await(call(h1, options, null));
  }

  /** Waits until the balancer routes {@code uri} to a backend (the registry change arrived). */
  static void awaitRouted(String uri, Map<String, String> headers, int backends) throws Exception {
    Poll.until(
        Duration.ofSeconds(5),
        () -> {
          List<String> seen = new ArrayList<>();
          for (int i = 0; i < backends * 4; i++) {
            Answer answer = get(uri, headers);
            assertThat(answer.status()).isEqualTo(200);
            seen.add(answer.backend());
          }
          assertThat(seen.stream().distinct().count()).isEqualTo(backends);
        });
  }

  @Test
  void roundRobinRotatesStrictly() throws Exception {
    harness.defineService(
        "rr", "{\"routes\": [{\"pathPrefix\": \"/rr\"}], \"strategy\": \"round-robin\"}");
    for (String name : List.of("rr-a", "rr-b", "rr-c")) {
      harness.register("rr", harness.namedBackend(name), 1);
    }
    awaitRouted("/rr", Map.of(), 3);
    List<String> order = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      order.add(get("/rr/x").backend());
    }
    // Strict rotation: the same cycle of the three, whatever backend it started at.
    assertThat(order.subList(0, 3)).containsExactlyInAnyOrder("rr-a", "rr-b", "rr-c");
    assertThat(order.subList(3, 6)).isEqualTo(order.subList(0, 3));
    assertThat(order.subList(6, 9)).isEqualTo(order.subList(0, 3));
  }

  @Test
  void weightedRoundRobinInterleavesInExactProportions() throws Exception {
    harness.defineService(
        "wrr",
        "{\"routes\": [{\"pathPrefix\": \"/wrr\"}], \"strategy\": \"weighted-round-robin\"}");
    harness.register("wrr", harness.namedBackend("heavy"), 5);
    harness.register("wrr", harness.namedBackend("light-1"), 1);
    harness.register("wrr", harness.namedBackend("light-2"), 1);
    awaitRouted("/wrr", Map.of(), 3);
    List<String> picks = new ArrayList<>();
    for (int i = 0; i < 21; i++) {
      picks.add(get("/wrr").backend());
    }
    // nginx's smooth sequence for 5,1,1 is H H L H L H H: exact in every cycle, lights apart.
    StringBuilder mask = new StringBuilder();
    picks.forEach(p -> mask.append(p.equals("heavy") ? 'H' : 'L'));
    assertThat("HHLHLHH".repeat(5)).contains(mask);
    List<String> lights = picks.stream().filter(p -> p.startsWith("light")).toList();
    for (int i = 1; i < lights.size(); i++) {
      assertThat(lights.get(i)).isNotEqualTo(lights.get(i - 1));
    }
  }

  @Test
  void leastConnectionsStarvesTheSlowBackend() throws Exception {
    harness.defineService(
        "lc", "{\"routes\": [{\"pathPrefix\": \"/lc\"}], \"strategy\": \"least-connections\"}");
    Map<String, AtomicInteger> served = new HashMap<>();
    for (String name : List.of("slow", "fast-1", "fast-2")) {
      served.put(name, new AtomicInteger());
      int delay = name.equals("slow") ? 200 : 1;
      harness.register(
          "lc",
          harness.backend(
              request -> {
                served.get(name).incrementAndGet();
                harness
                    .backendVertx()
                    .setTimer(
                        delay, t -> request.response().putHeader("x-backend", name).end(name));
              }),
          1);
    }
    awaitRouted("/lc", Map.of(), 3);
    served.values().forEach(c -> c.set(0));

    // 16 closed-loop clients for a bounded 3 seconds.
    long until = System.nanoTime() + Duration.ofSeconds(3).toNanos();
    List<Future<Void>> clients = new ArrayList<>();
    for (int c = 0; c < 16; c++) {
      clients.add(loop(until));
    }
    await(Future.all(clients));
    int total = served.values().stream().mapToInt(AtomicInteger::get).sum();
    assertThat(total).isGreaterThan(100);
    assertThat((double) served.get("slow").get() / total).isLessThan(0.15);
  }

  private static Future<Void> loop(long until) {
    if (System.nanoTime() > until) {
      return Future.succeededFuture();
    }
    return call(h1, new RequestOptions().setURI("/lc"), null)
        .compose(
            answer -> {
              assertThat(answer.status()).isEqualTo(200);
              return loop(until);
            });
  }

  @Test
  void routesByHostPathHeaderAndMethodAndStripsThePrefix() throws Exception {
    harness.defineService(
        "by-host", "{\"routes\": [{\"hosts\": [\"shop.test\"], \"pathPrefix\": \"/\"}]}");
    harness.defineService("by-wild", "{\"routes\": [{\"hosts\": [\"*.test\"]}]}");
    harness.defineService(
        "by-header",
        "{\"routes\": [{\"pathPrefix\": \"/app\", \"headers\": {\"X-Env\": \"beta\"}}]}");
    harness.defineService(
        "by-method", "{\"routes\": [{\"pathPrefix\": \"/app\", \"methods\": [\"POST\"]}]}");
    harness.defineService(
        "app", "{\"routes\": [{\"pathPrefix\": \"/app\"}], \"stripPrefix\": true}");
    for (String service : List.of("by-host", "by-wild", "by-header", "by-method", "app")) {
      harness.register(service, harness.namedBackend(service), 1);
    }
    awaitRouted("/app/ping", Map.of(), 1);
    Poll.until(
        Duration.ofSeconds(5),
        () -> {
          assertThat(get("/", Map.of("host", "shop.test")).backend()).isEqualTo("by-host");
          assertThat(get("/", Map.of("host", "blog.test")).backend()).isEqualTo("by-wild");
          assertThat(get("/app/x", Map.of("x-env", "beta")).backend()).isEqualTo("by-header");
          assertThat(
                  await(
                          call(
                              h1,
                              new RequestOptions().setMethod(HttpMethod.POST).setURI("/app/x"),
                              Buffer.buffer("{}")))
                      .backend())
              .isEqualTo("by-method");
        });
    Answer stripped = get("/app/users?page=2");
    assertThat(stripped.backend()).isEqualTo("app");
    assertThat(stripped.json().getString("uri")).isEqualTo("/users?page=2");
  }

  @Test
  void noRouteIs404AndNoInstanceIs503WithAReason() throws Exception {
    Answer none = get("/nothing-here", Map.of("host", "unknown.example"));
    assertThat(none.status()).isEqualTo(404);
    assertThat(none.body()).startsWith("no route for unknown.example/nothing-here").endsWith("\n");
    assertThat(none.body().lines()).hasSize(1);

    harness.defineService("empty", "{\"routes\": [{\"pathPrefix\": \"/empty\"}]}");
    Poll.until(Duration.ofSeconds(5), () -> assertThat(get("/empty").status()).isEqualTo(503));
    assertThat(get("/empty").body()).isEqualTo("no available instance of service empty\n");
  }

  @Test
  void hopByHopHeadersAreRemovedAndForwardingHeadersSet() throws Exception {
    harness.defineService("hops", "{\"routes\": [{\"pathPrefix\": \"/hops\"}]}");
    harness.register(
        "hops",
        harness.backend(
            request ->
                request
                    .response()
                    .putHeader("connection", "keep-alive, x-backend-hop")
                    .putHeader("keep-alive", "timeout=5")
                    .putHeader("x-backend-hop", "secret")
                    .putHeader("x-end-to-end", "kept")
                    .putHeader("content-type", "application/json")
                    .end(new JsonObject().put("headers", headersOf(request.headers())).encode())),
        1);
    Poll.until(Duration.ofSeconds(5), () -> assertThat(get("/hops").status()).isEqualTo(200));

    Answer answer =
        get(
            "/hops",
            Map.of(
                "connection", "keep-alive, x-client-hop",
                "x-client-hop", "1",
                "keep-alive", "timeout=10",
                "te", "trailers",
                "proxy-authorization", "Basic abc",
                "x-forwarded-for", "203.0.113.7",
                "x-end-to-end", "yes"));
    JsonObject seen = answer.json().getJsonObject("headers");
    assertThat(seen.fieldNames())
        .doesNotContain("x-client-hop", "keep-alive", "te", "proxy-authorization");
    assertThat(seen.getString("connection")).isNotEqualTo("keep-alive, x-client-hop");
    assertThat(seen.getString("x-end-to-end")).isEqualTo("yes");
    // The client is no trusted proxy (proxy.trusted.cidrs is empty): its claim is replaced.
    assertThat(seen.getString("x-forwarded-for")).isEqualTo("127.0.0.1");
    assertThat(seen.getString("x-forwarded-proto")).isEqualTo("https");
    assertThat(seen.getString("x-forwarded-host")).isEqualTo("127.0.0.1:" + harness.httpsPort());
    assertThat(seen.getString("x-forwarded-port")).isEqualTo(String.valueOf(harness.httpsPort()));
    assertThat(seen.getString("forwarded"))
        .isEqualTo("for=127.0.0.1;host=\"127.0.0.1:" + harness.httpsPort() + "\";proto=https");
    assertThat(seen.getString("host")).isEqualTo("127.0.0.1:" + harness.httpsPort());

    assertThat(answer.headers().get("x-backend-hop")).isNull();
    assertThat(answer.headers().get("keep-alive")).isNull();
    assertThat(answer.headers().get("x-end-to-end")).isEqualTo("kept");
  }

  @Test
  void http2ClientsAreServedAndBackendsGetHttp11() throws Exception {
    harness.defineService("h2", "{\"routes\": [{\"pathPrefix\": \"/h2\"}]}");
    harness.register(
        "h2",
        harness.backend(
            request ->
                request
                    .response()
                    .putHeader("connection", "keep-alive")
                    .end(request.version().name() + " " + request.getHeader("host"))),
        1);
    Poll.until(Duration.ofSeconds(5), () -> assertThat(get("/h2").status()).isEqualTo(200));
    Answer answer = await(call(h2, new RequestOptions().setURI("/h2"), null));
    assertThat(answer.version()).isEqualTo(HttpVersion.HTTP_2);
    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.body()).isEqualTo("HTTP_1_1 127.0.0.1:" + harness.httpsPort());
    // A Connection header is an HTTP/2 protocol error: it must not reach the client.
    assertThat(answer.headers().get("connection")).isNull();
  }

  @Test
  void requestAndResponseBodiesStreamThrough() throws Exception {
    harness.defineService("upload", "{\"routes\": [{\"pathPrefix\": \"/upload\"}]}");
    harness.register("upload", harness.namedBackend("upload"), 1);
    Poll.until(Duration.ofSeconds(5), () -> assertThat(get("/upload").status()).isEqualTo(200));
    Buffer body = Buffer.buffer(new byte[3 * 1024 * 1024]);
    Answer answer =
        await(call(h1, new RequestOptions().setMethod(HttpMethod.POST).setURI("/upload"), body));
    assertThat(answer.json().getInteger("bodyLength")).isEqualTo(body.length());
  }

  @Test
  void anAllowedClientIsToldWhyItsRequestWentWhereItWentAndNoOneElseIs() throws Exception {
    harness.defineService(
        "explained",
        "{\"routes\": [{\"pathPrefix\": \"/explained\"}], \"strategy\": \"least-connections\"}");
    String a = harness.register("explained", harness.namedBackend("ea"), 1);
    String b = harness.register("explained", harness.namedBackend("eb"), 2);
    // An instance that refuses: its attempt shows in the explanation, then another is tried.
    int dead = io.teller.common.testing.TestClusters.freePort();
    String refusing = harness.register("explained", dead, 4);
    harness.awaitInstances(a, b, refusing);

    Answer asked =
        get(
            "/explained/x",
            Map.of(
                "x-teller-explain",
                "1",
                "x-teller-token",
                io.teller.registry.testing.RegistryNodes.TOKEN));
    assertThat(asked.status()).isEqualTo(200);
    String explanation = asked.headers().get("x-teller-explain");
    assertThat(explanation)
        .startsWith(
            "route /explained -> service explained; strategy least-connections; candidates:")
        .contains(a + " weight 1 in-flight 0+0 peers")
        .contains(b + " weight 2 in-flight 0+0 peers")
        .contains(refusing + " weight 4")
        .contains("picked ")
        .contains("least ")
        .contains("attempts: ")
        .contains(" answered 200");
    // The instance the request reached saw neither the question nor the token.
    JsonObject seen = asked.json().getJsonObject("headers");
    assertThat(seen.fieldNames()).doesNotContain("x-teller-explain", "x-teller-token");

    // Without the token, or with a wrong one: served as any request, nothing said.
    for (Map<String, String> headers :
        List.of(
            Map.of("x-teller-explain", "1"),
            Map.of("x-teller-explain", "1", "x-teller-token", "guess"))) {
      Answer unasked = get("/explained/x", headers);
      assertThat(unasked.status()).isEqualTo(200);
      assertThat(unasked.headers().get("x-teller-explain")).isNull();
      assertThat(unasked.json().getJsonObject("headers").fieldNames())
          .doesNotContain("x-teller-explain", "x-teller-token");
    }
    harness.remove("explained", refusing);
  }

  @Test
  void plainHttpRedirectsToHttpsWith308() {
    HttpClient plain = harness.backendVertx().createHttpClient();
    Answer answer =
        await(
            call(
                plain,
                new RequestOptions()
                    .setPort(harness.httpPort())
                    .setURI("/some/path?q=1")
                    .putHeader("host", "shop.test"),
                null));
    assertThat(answer.status()).isEqualTo(308);
    assertThat(answer.headers().get("location"))
        .isEqualTo("https://shop.test:" + harness.httpsPort() + "/some/path?q=1");
    await(plain.close());
  }

  @Test
  void registrationAndRemovalTakeEffectWithinOneSecond() throws Exception {
    harness.defineService("live", "{\"routes\": [{\"pathPrefix\": \"/live\"}]}");
    Poll.until(Duration.ofSeconds(5), () -> assertThat(get("/live").status()).isEqualTo(503));
    int port = harness.namedBackend("live-1");

    long registeredAt = System.nanoTime();
    String id = harness.register("live", port, 1);
    Poll.until(Duration.ofSeconds(1), () -> assertThat(get("/live").status()).isEqualTo(200));
    assertThat(Duration.ofNanos(System.nanoTime() - registeredAt))
        .isLessThan(Duration.ofSeconds(1));

    long removedAt = System.nanoTime();
    harness.remove("live", id);
    Poll.until(Duration.ofSeconds(1), () -> assertThat(get("/live").status()).isEqualTo(503));
    assertThat(Duration.ofNanos(System.nanoTime() - removedAt)).isLessThan(Duration.ofSeconds(1));
  }

  /** A named backend that counts the requests it serves; returns its port. */
  static int countingBackend(String name, AtomicInteger served) {
    return harness.backend(
        request -> {
          served.incrementAndGet();
          request.response().putHeader("x-backend", name).end(name);
        });
  }

  @Test
  void drainingAndZeroWeightInstancesGetNoNewRequests() throws Exception {
    harness.defineService(
        "drain", "{\"routes\": [{\"pathPrefix\": \"/drain\"}], \"drainTimeoutMs\": 60000}");
    AtomicInteger going = new AtomicInteger();
    AtomicInteger zero = new AtomicInteger();
    harness.register("drain", harness.namedBackend("drain-keep"), 1);
    String goingId = harness.register("drain", countingBackend("drain-going", going), 1);
    String zeroId = harness.register("drain", countingBackend("drain-zero", zero), 0);
    awaitRouted("/drain", Map.of(), 2);
    assertThat(going.get()).isPositive();
    io.teller.registry.testing.Http.delete(
        harness.registry().url("/v1/services/drain/instances/" + goingId));
    Poll.until(
        Duration.ofSeconds(2),
        () -> {
          for (int i = 0; i < 10; i++) {
            assertThat(get("/drain").backend()).isEqualTo("drain-keep");
          }
        });
    int goingBefore = going.get();
    for (int i = 0; i < 20; i++) {
      assertThat(get("/drain").backend()).isEqualTo("drain-keep");
    }
    // Both are still registered — draining, and weight 0 — yet neither got one request more.
    JsonObject draining =
        io.teller.registry.testing.Http.get(
                harness.registry().url("/v1/services/drain/instances/" + goingId))
            .json();
    assertThat(draining.getString("status")).isEqualTo("draining");
    assertThat(
            io.teller.registry.testing.Http.get(
                    harness.registry().url("/v1/services/drain/instances/" + zeroId))
                .status())
        .isEqualTo(200);
    assertThat(going.get()).isEqualTo(goingBefore);
    assertThat(zero.get()).isZero();
  }

  @Test
  void anInstanceThatDiesIsRetriedElsewhereFromTheFirstRequestAndEjected() throws Exception {
    harness.defineService(
        "refuse", "{\"routes\": [{\"pathPrefix\": \"/refuse\"}], \"strategy\": \"round-robin\"}");
    harness.register("refuse", harness.namedBackend("refuse-ok"), 1);
    int dying = harness.namedBackend("refuse-dying");
    String dyingId = harness.register("refuse", dying, 1);
    awaitRouted("/refuse", Map.of(), 2);
    double retriedBefore = retriesSent("refuse");

    harness.stopBackend(dying);
    // Round robin sends one of the next two requests to the dead instance: no client sees it.
    for (int i = 0; i < 20; i++) {
      Answer answer = get("/refuse");
      assertThat(answer.status()).as("request %d after the instance died", i + 1).isEqualTo(200);
      assertThat(answer.backend()).isEqualTo("refuse-ok");
      if (i == 1) {
        assertThat(retriesSent("refuse")).isGreaterThan(retriedBefore);
      }
    }
    JsonObject counts =
        new JsonObject(
            io.teller.registry.testing.Http.get(
                    "http://127.0.0.1:" + harness.adminPort() + "/counts")
                .body());
    assertThat(counts.getJsonObject("instances").getJsonObject(dyingId).getBoolean("ejected"))
        .isTrue();
  }

  /** {@code teller_retries_total{outcome="sent"}} of {@code service}. */
  static double retriesSent(String service) {
    return ResilienceTest.sample(
        io.teller.registry.testing.Http.get("http://127.0.0.1:" + harness.adminPort() + "/metrics")
            .body(),
        "teller_retries_total",
        "service=\"" + service + "\"",
        "outcome=\"sent\"");
  }

  @Test
  void withEveryInstanceUnreachableTheAnswerIs502WithAReason() throws Exception {
    harness.defineService("allgone", "{\"routes\": [{\"pathPrefix\": \"/allgone\"}]}");
    harness.register("allgone", io.teller.common.testing.TestClusters.freePort(), 1);
    Poll.until(Duration.ofSeconds(5), () -> assertThat(get("/allgone").status()).isEqualTo(502));
    // Panic threshold: the only instance is ejected, yet still tried, and the reason is given.
    Answer answer = get("/allgone");
    assertThat(answer.status()).isEqualTo(502);
    assertThat(answer.body())
        .startsWith("cannot connect to instance allgone-")
        .contains("connection refused");
  }

  @Test
  void anInstanceThatDoesNotAnswerInTimeGives504WithAReason() throws Exception {
    harness.defineService("silent", "{\"routes\": [{\"pathPrefix\": \"/silent\"}]}");
    harness.register(
        "silent",
        harness.backend(
            request -> {
              if (request.path().equals("/silent/ping")) {
                request.response().end("pong");
              }
              // Anything else: never answered.
            }),
        1);
    Poll.until(
        Duration.ofSeconds(5), () -> assertThat(get("/silent/ping").status()).isEqualTo(200));
    long started = System.nanoTime();
    Answer answer = get("/silent/wait");
    long tookMillis = (System.nanoTime() - started) / 1_000_000;
    assertThat(answer.status()).isEqualTo(504);
    assertThat(answer.body())
        .matches("instance silent-[0-9a-f]+ of service silent did not answer within 3000 ms\n");
    // The harness's response timeout is 3 s; the check runs every 100 ms.
    assertThat(tookMillis).isBetween(2_900L, 5_000L);
  }

  private static JsonObject headersOf(MultiMap headers) {
    JsonObject json = new JsonObject();
    headers.forEach(h -> json.put(h.getKey().toLowerCase(), h.getValue()));
    return json;
  }
}
