package io.teller.balancer.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.balancer.BalancerSettings;
import io.teller.balancer.testing.BalancerHarness;
import io.teller.balancer.testing.Prometheus;
import io.teller.balancer.testing.RawClient;
import io.teller.balancer.testing.RecordingBackend;
import io.teller.common.testing.OnContext;
import io.teller.common.testing.Poll;
import io.teller.registry.testing.Http;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile bytes over raw sockets, HTTP and HTTPS, to a real balancer in front of a backend that
 * records every byte it gets: what the client got back, whether its connection was closed, and what
 * reached the backend (nothing, or exactly the normalised request).
 */
@Timeout(180)
class EdgeProbeTest {

  @TempDir static Path dir;
  static BalancerHarness harness;
  static RecordingBackend backend;
  static RecordingBackend publicBackend;

  @BeforeAll
  static void start() throws Exception {
    harness =
        new BalancerHarness(
            dir,
            false,
            Map.of(
                BalancerSettings.HTTP_REQUEST_HEADER_TIMEOUT_MS,
                500,
                BalancerSettings.HTTP_MAX_HEADER_FIELDS,
                100,
                BalancerSettings.PROXY_TRUSTED_CIDRS,
                List.of(io.teller.common.net.Cidr.parse("127.0.0.2/32"))));
    backend = new RecordingBackend();
    publicBackend = new RecordingBackend();
    harness.defineService("probe", "{\"routes\": [{\"pathPrefix\": \"/\"}]}");
    harness.register("probe", backend.port(), 1);
    harness.defineService(
        "public", "{\"routes\": [{\"pathPrefix\": \"/public\"}], \"stripPrefix\": true}");
    harness.register("public", publicBackend.port(), 1);
    Poll.until(
        Duration.ofSeconds(10),
        () ->
            assertThat(
                    RawClient.exchange(
                            harness.httpPort(),
                            null,
                            "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
                            500)
                        .status())
                .isEqualTo(200));
  }

  @AfterAll
  static void stop() {
    if (harness != null) {
      harness.close();
    }
    if (backend != null) {
      backend.close();
    }
    if (publicBackend != null) {
      publicBackend.close();
    }
  }

  static Stream<Arguments> refused() {
    List<Arguments> all = new ArrayList<>();
    String[][] vectors = {
      {
        "xchunked",
        "POST /M HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "400"
      },
      {
        "chunked twice",
        "POST /M HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "400"
      },
      {
        "chunked not last",
        "POST /M HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "400"
      },
      {
        "TE on HTTP/1.0",
        "POST /M HTTP/1.0\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "400"
      },
      {
        "folded TE",
        "POST /M HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding:\r\n chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "400"
      },
      {
        "CL disagree",
        "POST /M HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        "400"
      },
      {
        "CL overflow",
        "POST /M HTTP/1.1\r\nHost: localhost\r\nContent-Length: 99999999999999999999999\r\n\r\nhello",
        "400"
      },
      {
        "chunk size overflow",
        "POST /M HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n",
        "400"
      },
      {
        "bad chunk framing",
        "POST /M HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
        "400"
      },
      {
        "quoted chunk extension",
        "POST /M HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"x\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n\"\r\nhello\r\n0\r\n\r\n",
        "400"
      },
      {"no Host", "GET /M HTTP/1.1\r\n\r\n", "400"},
      {"two Hosts", "GET /M HTTP/1.1\r\nHost: localhost\r\nHost: evil\r\n\r\n", "400"},
      {
        "absolute-form other host",
        "GET http://evil.example/M HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "400"
      },
      {"NUL in a field", "GET /M HTTP/1.1\r\nHost: localhost\r\nX-A: a\u0000b\r\n\r\n", "400"},
      {"bad field name", "GET /M HTTP/1.1\r\nHost: localhost\r\nBad Name: x\r\n\r\n", "400"},
      {
        "101 fields",
        "GET /M HTTP/1.1\r\nHost: localhost\r\n" + "X-F: v\r\n".repeat(100) + "\r\n",
        "431"
      },
      {
        "16 KiB target",
        "GET /M" + "a".repeat(16_000) + " HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "414"
      },
    };
    for (boolean tls : new boolean[] {false, true}) {
      for (String[] v : vectors) {
        all.add(Arguments.of((tls ? "HTTPS " : "HTTP ") + v[0], tls, v[1], Integer.parseInt(v[2])));
      }
    }
    return all.stream();
  }

  static SSLContext tls(boolean tls) {
    return tls ? harness.certificates().clientContext() : null;
  }

  static int port(boolean tls) {
    return tls ? harness.httpsPort() : harness.httpPort();
  }

  /** A marker unique to one probe, in the target, so the backend's log tells whose bytes it got. */
  static String marker() {
    return "/probe-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Sends a good request behind the probe and waits for the backend to have it. */
  static void controlRequestArrives(boolean tls) throws Exception {
    String control = marker();
    RawClient.Result result =
        RawClient.exchange(
            port(tls),
            tls(tls),
            "GET " + control + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            3000);
    assertThat(result.status()).as(result.text()).isEqualTo(200);
    Poll.until(Duration.ofSeconds(5), () -> assertThat(backend.received()).contains(control));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refused")
  void refusedWithItsStatusAndClosedAndTheBackendSeesNothing(
      String name, boolean tls, String request, int status) throws Exception {
    String marker = marker();
    RawClient.Result result =
        RawClient.exchange(port(tls), tls(tls), request.replace("/M", marker), 5000);

    assertThat(result.status()).as(result.text()).isEqualTo(status);
    assertThat(result.text()).contains("connection: close");
    assertThat(result.closed()).as("connection closed").isTrue();
    controlRequestArrives(tls);
    assertThat(backend.received()).doesNotContain(marker).doesNotContain("/smuggled");
  }

  @ParameterizedTest(name = "HTTPS {0}")
  @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
  void contentLengthBesideChunkedReachesTheBackendChunkedOnlyAndTheConnectionCloses(boolean tls)
      throws Exception {
    String marker = marker();
    RawClient.Result result =
        RawClient.exchange(
            port(tls),
            tls(tls),
            "POST "
                + marker
                + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n",
            5000);

    assertThat(result.status()).as(result.text()).isEqualTo(200);
    assertThat(result.text()).containsOnlyOnce("HTTP/1.1 ");
    assertThat(result.closed()).as("closed after the response").isTrue();
    controlRequestArrives(tls);
    String seen = backend.received();
    String forwarded = seen.substring(seen.indexOf("POST " + marker));
    String head = forwarded.substring(0, forwarded.indexOf("\r\n\r\n")).toLowerCase();
    assertThat(head).contains("transfer-encoding: chunked").doesNotContain("content-length");
    assertThat(forwarded).contains("\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    assertThat(seen).doesNotContain("/smuggled");
  }

  @Test
  void anAbsoluteFormTargetReachesTheBackendInOriginForm() throws Exception {
    String marker = marker();
    RawClient.Result result =
        RawClient.exchange(
            harness.httpPort(),
            null,
            "GET http://localhost" + marker + "?q=1 HTTP/1.1\r\nHost: localhost\r\n\r\n",
            1500);
    assertThat(result.status()).as(result.text()).isEqualTo(200);
    Poll.until(
        Duration.ofSeconds(5),
        () -> assertThat(backend.received()).contains("GET " + marker + "?q=1 HTTP/1.1\r\n"));
    assertThat(backend.received()).doesNotContain("http://localhost" + marker);
  }

  @Test
  void aHeadThatTricklesPastTheTimeoutIsAnswered408AndClosed() throws Exception {
    try (Socket socket = RawClient.open(harness.httpPort(), null)) {
      socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: local".getBytes());
      long start = System.nanoTime();
      RawClient.Result result = RawClient.read(socket, 5000);
      long waited = (System.nanoTime() - start) / 1_000_000;
      assertThat(result.status()).as(result.text()).isEqualTo(408);
      assertThat(result.closed()).isTrue();
      assertThat(waited).isBetween(400L, 4000L);
    }
  }

  @Test
  void theConnectionCapAnswers503AndFreesItsPlaceWhenAConnectionCloses() throws Exception {
    try (BalancerHarness capped =
        new BalancerHarness(
            dir.resolve("capped"), false, Map.of(BalancerSettings.HTTP_MAX_CONNECTIONS, 2))) {
      capped.defineService("probe", "{\"routes\": [{\"pathPrefix\": \"/\"}]}");
      capped.register("probe", backend.port(), 1);
      String get = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
      Socket first = RawClient.open(capped.httpPort(), null);
      Socket second = RawClient.open(capped.httpPort(), null);
      Poll.until(
          Duration.ofSeconds(10),
          () -> {
            first.getOutputStream().write(get.getBytes());
            assertThat(RawClient.read(first, 1000).status()).isEqualTo(200);
          });
      RawClient.Result third = RawClient.exchange(capped.httpPort(), null, get, 3000);
      assertThat(third.status()).as(third.text()).isEqualTo(503);
      assertThat(third.closed()).isTrue();
      // The metric is the count the cap keeps: the two admitted, not the one refused.
      assertThat(clientConnections(capped)).isEqualTo(2);

      second.close();
      Poll.until(Duration.ofSeconds(5), () -> assertThat(clientConnections(capped)).isEqualTo(1));
      Poll.until(
          Duration.ofSeconds(5),
          () ->
              assertThat(RawClient.exchange(capped.httpPort(), null, get, 1000).status())
                  .isEqualTo(200));
      first.close();
      Poll.until(Duration.ofSeconds(5), () -> assertThat(clientConnections(capped)).isEqualTo(0));
    }
  }

  /** {@code teller_client_connections} as the balancer's {@code /metrics} shows it now. */
  static double clientConnections(BalancerHarness balancer) {
    return Prometheus.sample(
        Http.get("http://127.0.0.1:" + balancer.adminPort() + "/metrics").body(),
        "teller_client_connections");
  }

  // --- beyond framing: paths, upgrades, hop-by-hop fields, forwarding ---

  static RawClient.Result get(boolean tls, String target, String fields) throws Exception {
    return RawClient.exchange(
        port(tls),
        tls(tls),
        "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" + fields + "Connection: close\r\n\r\n",
        3000);
  }

  /** The head of the request the backend got whose line contains {@code marker}. */
  static String forwardedHead(RecordingBackend to, String marker) throws Exception {
    Poll.until(Duration.ofSeconds(5), () -> assertThat(to.received()).contains(marker));
    String seen = to.received();
    int start = seen.lastIndexOf("GET ", seen.indexOf(marker));
    return seen.substring(start, seen.indexOf("\r\n\r\n", start));
  }

  @ParameterizedTest(name = "HTTPS {0}")
  @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
  void dotSegmentsAreRemovedBeforeRoutingSoNoPrefixIsEscaped(boolean tls) throws Exception {
    String marker = marker().substring(1);
    RawClient.Result escape = get(tls, "/public/../" + marker, "");
    assertThat(escape.status()).as(escape.text()).isEqualTo(200);
    // Routed as /<marker>: to the catch-all service, not to /public's.
    assertThat(forwardedHead(backend, marker)).startsWith("GET /" + marker + " HTTP/1.1");
    assertThat(publicBackend.received()).doesNotContain(marker);

    String inside = marker().substring(1);
    RawClient.Result stripped = get(tls, "/public/a/../" + inside + "/./x", "");
    assertThat(stripped.status()).as(stripped.text()).isEqualTo(200);
    assertThat(forwardedHead(publicBackend, inside)).startsWith("GET /" + inside + "/x HTTP/1.1");
  }

  @ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.ValueSource(
      strings = {"/public/%2e%2e/M", "/public%2FM", "/M%5c..", "/public\\..\\M"})
  void encodedSeparatorsAndBackslashesAreRefused(String target) throws Exception {
    for (boolean tls : new boolean[] {false, true}) {
      String marker = marker().substring(1);
      // Keep-alive asked for: the balancer closes anyway.
      RawClient.Result result =
          RawClient.exchange(
              port(tls),
              tls(tls),
              "GET " + target.replace("M", marker) + " HTTP/1.1\r\nHost: localhost\r\n\r\n",
              3000);
      assertThat(result.status()).as(result.text()).isEqualTo(400);
      assertThat(result.closed()).as("closed").isTrue();
      controlRequestArrives(tls);
      assertThat(backend.received() + publicBackend.received()).doesNotContain(marker);
    }
  }

  @Test
  void anH2cUpgradeIsNeverPassedOnTheRequestGoesOnAsAPlainOne() throws Exception {
    String marker = marker();
    RawClient.Result result =
        get(
            false,
            marker,
            "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                + "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n");
    assertThat(result.status()).as(result.text()).isEqualTo(200);
    String head = forwardedHead(backend, marker).toLowerCase();
    assertThat(head).doesNotContain("upgrade").doesNotContain("http2-settings");
  }

  @Test
  void aServiceMayAllowOtherUpgradesThanWebSocket() throws Exception {
    harness.defineService(
        "custom-upgrade",
        "{\"routes\": [{\"pathPrefix\": \"/custom-upgrade\"}], \"upgrades\": [\"websocket\","
            + " \"x-custom\"]}");
    harness.register("custom-upgrade", backend.port(), 1);
    String upgrade = "Connection: Upgrade\r\nUpgrade: x-custom\r\n";
    // Until the balancer has the new route, the catch-all service answers the same path as a
    // plain request: each try has a marker of its own, so only the routed one is judged.
    Poll.until(
        Duration.ofSeconds(5),
        () -> {
          String marker = marker().substring(1);
          assertThat(get(false, "/custom-upgrade/" + marker, upgrade).status()).isEqualTo(200);
          assertThat(forwardedHead(backend, marker).toLowerCase()).contains("upgrade: x-custom");
        });

    // The same upgrade to a service that does not allow it: a plain request.
    String plain = marker();
    assertThat(get(false, plain, upgrade).status()).isEqualTo(200);
    assertThat(forwardedHead(backend, plain).toLowerCase()).doesNotContain("x-custom");
  }

  @Test
  void everyConnectionLineIsHonoured() throws Exception {
    String marker = marker();
    RawClient.Result result =
        get(false, marker, "Connection: keep-alive\r\nConnection: X-Secret\r\nX-Secret: 1\r\n");
    assertThat(result.status()).as(result.text()).isEqualTo(200);
    assertThat(forwardedHead(backend, marker).toLowerCase()).doesNotContain("x-secret");
  }

  @Test
  void forwardingClaimsOfAnUntrustedClientAreReplacedAndATrustedProxysAreAppendedTo()
      throws Exception {
    String claims = "X-Forwarded-For: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\n";
    String untrusted = marker();
    assertThat(get(false, untrusted, claims).status()).isEqualTo(200);
    String head = forwardedHead(backend, untrusted).toLowerCase();
    assertThat(head).contains("x-forwarded-for: 127.0.0.1\r\n").doesNotContain("6.6.6.6");

    String trusted = marker();
    try (Socket socket =
        RawClient.open(harness.httpPort(), null, java.net.InetAddress.getByName("127.0.0.2"))) {
      socket
          .getOutputStream()
          .write(
              ("GET "
                      + trusted
                      + " HTTP/1.1\r\nHost: localhost\r\n"
                      + claims
                      + "Connection: close\r\n\r\n")
                  .getBytes());
      assertThat(RawClient.read(socket, 3000).status()).isEqualTo(200);
    }
    assertThat(forwardedHead(backend, trusted).toLowerCase())
        .contains("x-forwarded-for: 6.6.6.6, 127.0.0.2\r\n")
        .contains("forwarded: for=6.6.6.6, for=127.0.0.2");
  }

  @ParameterizedTest(name = "instance compresses: {0}")
  @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
  void aWebSocketHandshakeTellsTheClientTheExtensionsTheInstanceAgreedToAndNoOthers(
      boolean compressing) throws Exception {
    // Browsers offer permessage-deflate on every WebSocket. The client must hear what the instance
    // answered, no more: told of an extension the instance did not agree to, it would send
    // compressed frames the instance cannot read.
    io.vertx.core.http.HttpServer instance =
        BalancerHarness.await(
            OnContext.run(
                harness.backendVertx(),
                () ->
                    harness
                        .backendVertx()
                        .createHttpServer(
                            new io.vertx.core.http.HttpServerOptions()
                                .setPerMessageWebSocketCompressionSupported(compressing)
                                .setPerFrameWebSocketCompressionSupported(compressing))
                        .requestHandler(
                            request -> {
                              if ("websocket".equalsIgnoreCase(request.getHeader("upgrade"))) {
                                request.toWebSocket();
                              } else {
                                request.response().end("plain");
                              }
                            })
                        .listen(0, "127.0.0.1")));
    String service = compressing ? "ws-deflate" : "ws-plain";
    try {
      harness.defineService(service, "{\"routes\": [{\"pathPrefix\": \"/" + service + "\"}]}");
      harness.register(service, instance.actualPort(), 1);
      Poll.until(
          Duration.ofSeconds(10),
          () -> assertThat(get(false, "/" + service, "").text()).endsWith("plain"));
      String handshake =
          "GET /"
              + service
              + "/chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
              + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              + "Sec-WebSocket-Version: 13\r\n"
              + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";
      for (boolean tls : new boolean[] {false, true}) {
        try (Socket socket = RawClient.open(port(tls), tls(tls))) {
          socket.getOutputStream().write(handshake.getBytes(StandardCharsets.ISO_8859_1));
          RawClient.Result answer = RawClient.readHead(socket, 5000);
          assertThat(answer.statusLine()).as(answer.text()).contains(" 101 ");
          String head = answer.text().toLowerCase();
          assertThat(head).contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=");
          if (compressing) {
            assertThat(head.split("permessage-deflate", -1)).as(head).hasSize(2);
          } else {
            assertThat(head).doesNotContain("sec-websocket-extensions").doesNotContain("deflate");
          }
        }
      }
    } finally {
      instance.close();
    }
  }

  @Test
  void interleavedKeepAliveConnectionsEachKeepTheirOwnClientsTrust() throws Exception {
    // The balancer works out a client's address and trust once per connection: requests that
    // alternate between connections from an untrusted client and a trusted proxy (two of each,
    // so that some share an event loop) must each get their own connection's.
    String claims = "X-Forwarded-For: 6.6.6.6\r\n";
    InetAddress untrusted = InetAddress.getByName("127.0.0.1");
    InetAddress trusted = InetAddress.getByName("127.0.0.2");
    List<InetAddress> clients = List.of(untrusted, trusted, untrusted, trusted);
    List<Socket> sockets = new ArrayList<>();
    try {
      for (InetAddress client : clients) {
        sockets.add(RawClient.open(harness.httpPort(), null, client));
      }
      for (int round = 0; round < 3; round++) {
        for (int i = 0; i < sockets.size(); i++) {
          String marker = marker();
          sockets
              .get(i)
              .getOutputStream()
              .write(
                  ("GET " + marker + " HTTP/1.1\r\nHost: localhost\r\n" + claims + "\r\n")
                      .getBytes(StandardCharsets.ISO_8859_1));
          String head = forwardedHead(backend, marker).toLowerCase();
          if (clients.get(i).equals(trusted)) {
            assertThat(head).contains("x-forwarded-for: 6.6.6.6, 127.0.0.2\r\n");
          } else {
            assertThat(head).contains("x-forwarded-for: 127.0.0.1\r\n").doesNotContain("6.6.6.6");
          }
        }
      }
    } finally {
      for (Socket socket : sockets) {
        socket.close();
      }
    }
  }
}
