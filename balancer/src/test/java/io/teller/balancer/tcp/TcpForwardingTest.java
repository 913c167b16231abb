package io.teller.balancer.tcp;

import static io.teller.balancer.testing.BalancerHarness.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.teller.balancer.BalancerSettings;
import io.teller.balancer.testing.BalancerHarness;
import io.teller.balancer.testing.TestCertificates;
import io.teller.common.config.Setting;
import io.teller.common.testing.Poll;
import io.teller.common.testing.TestClusters;
import io.teller.registry.testing.Http;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * L4 forwarding end to end in one JVM: a real registry and balancer, instances that are real TCP
 * (and TLS) servers, clients that are plain JDK sockets.
 */
@Timeout(180)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TcpForwardingTest {

  private static final Logger LOG = LoggerFactory.getLogger(TcpForwardingTest.class);

  @TempDir static Path dir;
  static BalancerHarness harness;
  static final int RR_PORT = TestClusters.freePort();
  static final int WRR_PORT = TestClusters.freePort();
  static final int SNI_PORT = TestClusters.freePort();

  /** Starts the registry and a balancer on {@link #transport()}. */
  @BeforeAll
  void start() {
    String transport = transport();
    Map<Setting, Object> tcp = new HashMap<>();
    tcp.put(
        BalancerSettings.TCP_LISTENERS,
        ListenerSpec.parseAll(
            RR_PORT + ":tcp-rr," + WRR_PORT + ":tcp-w:weighted-round-robin," + SNI_PORT + ":sni"));
    tcp.put(BalancerSettings.TRANSPORT, transport);
    // A directory of its own: the class that runs the same tests on another transport shares dir.
    harness = new BalancerHarness(dir.resolve(transport), true, tcp);
  }

  @Test
  void runsOnTheTransportItWasGiven() {
    assertThat(harness.transport()).isEqualTo(transport());
  }

  /** The transport this class's balancer runs on: a subclass runs every test on another. */
  String transport() {
    return "nio";
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  // --- instances ------------------------------------------------------------------------------

  /** An echo server that first says its name on a line of its own; returns its port. */
  static int echo(String name) {
    return listen(new NetServerOptions(), name);
  }

  static int listen(NetServerOptions options, String name) {
    NetServer server =
        await(
            harness
                .backendVertx()
                .createNetServer(options)
                .connectHandler(
                    socket -> {
                      socket.write(name + "\n");
                      socket.pipeTo(socket);
                    })
                .listen(0, "127.0.0.1"));
    return server.actualPort();
  }

  /** A port on which nothing listens. */
  static int refusingPort() {
    return TestClusters.freePort();
  }

  static void defineTcpService(String name, String strategy, Integer tcpPort, String... hosts) {
    JsonObject service = new JsonObject().put("strategy", strategy);
    if (tcpPort != null) {
      service.put("tcpPort", tcpPort);
    }
    if (hosts.length > 0) {
      service.put("routes", List.of(new JsonObject().put("hosts", List.of(hosts))));
    }
    harness.defineService(name, service.encode());
  }

  // --- clients --------------------------------------------------------------------------------

  /** A client connection through the balancer, its greeting (the instance's name) read. */
  record Conn(Socket socket, String instance) implements AutoCloseable {

    static Conn open(int port) throws IOException {
      Socket socket = new Socket();
      socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
      socket.setSoTimeout(10_000);
      return new Conn(socket, readLine(socket.getInputStream()));
    }

    String echo(String text) throws IOException {
      socket.getOutputStream().write((text + "\n").getBytes(StandardCharsets.UTF_8));
      return readLine(socket.getInputStream());
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** Reads a line; throws on the end of the stream. */
  static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != '\n') {
      if (b < 0) {
        throw new IOException("connection closed after \"" + line + "\"");
      }
      line.write(b);
    }
    return line.toString(StandardCharsets.UTF_8);
  }

  /** The instance names of {@code n} connections opened and closed one after the other. */
  static List<String> greetings(int port, int n) throws IOException {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      try (Conn conn = Conn.open(port)) {
        names.add(conn.instance());
      }
    }
    return names;
  }

  /** Waits until connections to {@code port} reach all of {@code instances}. */
  static void awaitRouted(int port, int instances) throws Exception {
    Poll.until(
        Duration.ofSeconds(10),
        () ->
            assertThat(greetings(port, instances * 4).stream().distinct().count())
                .isEqualTo(instances));
  }

  static boolean refused(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 1_000);
      return false;
    } catch (ConnectException e) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static JsonObject tcpFigures(int adminPort, int port) {
    return Http.get("http://127.0.0.1:" + adminPort + "/tcp")
        .json()
        .getJsonObject("listeners")
        .getJsonObject(String.valueOf(port));
  }

  static long count(List<String> names, String name) {
    return names.stream().filter(name::equals).count();
  }

  // --- tests ----------------------------------------------------------------------------------

  @Test
  void roundRobinAndWeightedRoundRobinSpreadConnectionsExactly() throws Exception {
    defineTcpService("tcp-rr", "round-robin", null);
    for (String name : List.of("rr-a", "rr-b", "rr-c")) {
      harness.register("tcp-rr", echo(name), 1);
    }
    awaitRouted(RR_PORT, 3);
    List<String> order = greetings(RR_PORT, 9);
    assertThat(order.subList(0, 3)).containsExactlyInAnyOrder("rr-a", "rr-b", "rr-c");
    assertThat(order.subList(3, 6)).isEqualTo(order.subList(0, 3));
    assertThat(order.subList(6, 9)).isEqualTo(order.subList(0, 3));

    // The service says round-robin; its listener says weighted-round-robin, and wins on that port.
    defineTcpService("tcp-w", "round-robin", null);
    harness.register("tcp-w", echo("heavy"), 3);
    harness.register("tcp-w", echo("light"), 1);
    awaitRouted(WRR_PORT, 2);
    List<String> weighted = greetings(WRR_PORT, 8);
    assertThat(count(weighted, "heavy")).isEqualTo(6);
    assertThat(count(weighted, "light")).isEqualTo(2);

    JsonObject figures = tcpFigures(harness.adminPort(), WRR_PORT);
    assertThat(figures.getString("kind")).isEqualTo("service");
    assertThat(figures.getString("strategy")).isEqualTo("weighted-round-robin");
    assertThat(figures.getLong("accepted")).isGreaterThanOrEqualTo(8);
    // The same figures in Prometheus text (meters are bound within the 5 s sweep).
    Poll.until(
        Duration.ofSeconds(10),
        () -> {
          String metrics =
              io.teller.registry.testing.Http.get(
                      "http://127.0.0.1:" + harness.adminPort() + "/metrics")
                  .body();
          assertThat(metrics)
              .containsPattern(
                  "teller_tcp_connections_total\\{listener=\""
                      + WRR_PORT
                      + "\"} ([8-9]|[1-9][0-9])");
          assertThat(metrics)
              .containsPattern(
                  "teller_tcp_bytes_total\\{direction=\"to_clients\",listener=\""
                      + WRR_PORT
                      + "\"} [1-9]");
          assertThat(metrics).contains("teller_tcp_open_by_instance{instance=\"tcp-w-");
        });
  }

  @Test
  void aHundredMegabytesEachWayArriveIntact() throws Exception {
    int port = TestClusters.freePort();
    defineTcpService("bulk", "round-robin", port);
    harness.register("bulk", echo("bulk-1"), 1);
    Poll.until(
        Duration.ofSeconds(10), () -> assertThat(greetings(port, 1)).containsExactly("bulk-1"));

    long total = 100L * 1024 * 1024;
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(30_000);
      assertThat(readLine(socket.getInputStream())).isEqualTo("bulk-1");
      CRC32 sent = new CRC32();
      long started = System.nanoTime();
      CompletableFuture<Void> writing =
          CompletableFuture.runAsync(
              () -> {
                Random random = new Random(42);
                byte[] chunk = new byte[64 * 1024];
                try {
                  for (long written = 0; written < total; written += chunk.length) {
                    random.nextBytes(chunk);
                    sent.update(chunk);
                    socket.getOutputStream().write(chunk);
                  }
                } catch (IOException e) {
                  throw new IllegalStateException(e);
                }
              });
      CRC32 received = new CRC32();
      byte[] buffer = new byte[64 * 1024];
      long read = 0;
      InputStream in = socket.getInputStream();
      while (read < total) {
        int n = in.read(buffer);
        assertThat(n).as("bytes after %d", read).isPositive();
        received.update(buffer, 0, n);
        read += n;
      }
      writing.get(60, TimeUnit.SECONDS);
      double seconds = (System.nanoTime() - started) / 1e9;
      LOG.info(
          "100 MiB each way through the balancer in {} s ({} MiB/s each way)",
          String.format("%.2f", seconds),
          String.format("%.0f", 100 / seconds));
      assertThat(read).isEqualTo(total);
      assertThat(received.getValue()).isEqualTo(sent.getValue());
    }
    JsonObject figures = tcpFigures(harness.adminPort(), port);
    assertThat(figures.getLong("bytesToInstances")).isGreaterThanOrEqualTo(total);
    assertThat(figures.getLong("bytesToClients")).isGreaterThanOrEqualTo(total);
  }

  @Test
  void anInstanceGivenByHostNameIsReached() throws Exception {
    // The name goes through Vert.x's resolver (the connector's), never a lookup on the event loop.
    int port = TestClusters.freePort();
    defineTcpService("by-name", "round-robin", port);
    Http.Response registered =
        Http.post(
            harness.registry().url("/v1/services/by-name/instances"),
            new JsonObject().put("host", "localhost").put("port", echo("named-1")).encode());
    assertThat(registered.status()).isLessThan(300);
    Poll.until(
        Duration.ofSeconds(10), () -> assertThat(greetings(port, 1)).containsExactly("named-1"));
  }

  @Test
  void anEndOnOneSideReachesTheOtherAfterEveryByte() throws Exception {
    // Client to instance: the instance numbers its connections and keeps what each received.
    int up = TestClusters.freePort();
    defineTcpService("ends-up", "round-robin", up);
    Map<String, CompletableFuture<String>> received = new ConcurrentHashMap<>();
    AtomicInteger connections = new AtomicInteger();
    NetServer sink =
        await(
            harness
                .backendVertx()
                .createNetServer()
                .connectHandler(
                    socket -> {
                      String id = "conn-" + connections.incrementAndGet();
                      CompletableFuture<String> ended =
                          received.computeIfAbsent(id, k -> new CompletableFuture<>());
                      Buffer got = Buffer.buffer();
                      socket.handler(got::appendBuffer);
                      socket.endHandler(v -> ended.complete(got.toString()));
                      socket.write(id + "\n");
                    })
                .listen(0, "127.0.0.1"));
    harness.register("ends-up", sink.actualPort(), 1);
    Poll.until(
        Duration.ofSeconds(10), () -> assertThat(greetings(up, 1).get(0)).startsWith("conn-"));
    String payload = "a request, then FIN. ".repeat(5_000);
    try (Socket socket = new Socket("127.0.0.1", up)) {
      socket.setSoTimeout(5_000);
      String id = readLine(socket.getInputStream());
      socket.getOutputStream().write(payload.getBytes(StandardCharsets.UTF_8));
      socket.shutdownOutput();
      assertThat(received.get(id).get(5, TimeUnit.SECONDS)).isEqualTo(payload);
      // This instance (a Vert.x server) closes on the FIN; its own FIN reaches the client.
      assertThat(socket.getInputStream().read()).isEqualTo(-1);
    }

    // Instance to client: an instance that answers and closes; the client gets every byte, then
    // EOF.
    int down = TestClusters.freePort();
    defineTcpService("ends-down", "round-robin", down);
    String answer = "an answer, then FIN. ".repeat(50_000);
    NetServer talker =
        await(
            harness
                .backendVertx()
                .createNetServer()
                .connectHandler(
                    socket -> socket.write("talker\n" + answer).onComplete(v -> socket.end()))
                .listen(0, "127.0.0.1"));
    harness.register("ends-down", talker.actualPort(), 1);
    Poll.until(
        Duration.ofSeconds(10), () -> assertThat(greetings(down, 1)).containsExactly("talker"));
    try (Socket socket = new Socket("127.0.0.1", down)) {
      socket.setSoTimeout(5_000);
      assertThat(readLine(socket.getInputStream())).isEqualTo("talker");
      assertThat(new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
          .isEqualTo(answer);
    }
  }

  @Test
  void anIdleConnectionIsClosedOnBothSides() throws Exception {
    int port = TestClusters.freePort();
    defineTcpService("idle", "round-robin", null);
    AtomicInteger instanceClosed = new AtomicInteger();
    NetServer server =
        await(
            harness
                .backendVertx()
                .createNetServer()
                .connectHandler(
                    socket -> {
                      socket.write("idle-1\n");
                      socket.closeHandler(v -> instanceClosed.incrementAndGet());
                      socket.pipeTo(socket);
                    })
                .listen(0, "127.0.0.1"));
    harness.register("idle", server.actualPort(), 1);
    // A balancer of its own with a short idle timeout, listening for this service alone.
    BalancerHarness.Extra extra =
        harness.startBalancer(
            "idle-balancer",
            Map.of(
                BalancerSettings.TCP_LISTENERS,
                ListenerSpec.parseAll(port + ":idle"),
                BalancerSettings.TCP_IDLE_TIMEOUT_MS,
                400));
    try {
      Poll.until(
          Duration.ofSeconds(10), () -> assertThat(greetings(port, 1)).containsExactly("idle-1"));
      Poll.until(Duration.ofSeconds(5), () -> assertThat(instanceClosed.get()).isEqualTo(1));
      try (Conn busy = Conn.open(port);
          Conn quiet = Conn.open(port)) {
        long opened = System.nanoTime();
        // A connection with traffic more often than the timeout stays open...
        for (int i = 0; i < 8; i++) {
          assertThat(busy.echo("ping " + i)).isEqualTo("ping " + i);
          Thread.sleep(150); // pacing the traffic below the timeout, not a wait for an event
        }
        // ...one without is closed, the client's side and the instance's.
        assertThat(quiet.socket().getInputStream().read()).isEqualTo(-1);
        assertThat(Duration.ofNanos(System.nanoTime() - opened))
            .isGreaterThanOrEqualTo(Duration.ofMillis(390));
        Poll.until(Duration.ofSeconds(5), () -> assertThat(instanceClosed.get()).isEqualTo(2));
        assertThat(busy.echo("still here")).isEqualTo("still here");
      }
      Poll.until(
          Duration.ofSeconds(5),
          () -> assertThat(tcpFigures(extra.adminPort(), port).getLong("open")).isZero());
    } finally {
      harness.stop(extra);
    }
  }

  @Test
  void anInstanceThatDiesIsSkippedFromTheFirstConnectionAndEjected() throws Exception {
    int port = TestClusters.freePort();
    defineTcpService("retry", "round-robin", port);
    harness.register("retry", echo("alive"), 1);
    NetServer dying =
        await(
            harness
                .backendVertx()
                .createNetServer()
                .connectHandler(socket -> socket.write("dying\n"))
                .listen(0, "127.0.0.1"));
    int dyingPort = dying.actualPort();
    String dyingId = harness.register("retry", dyingPort, 1);
    awaitRouted(port, 2);
    double retriedBefore = sample("teller_retries_total", "service=\"retry\"", "outcome=\"sent\"");

    await(dying.close());
    // Dead means refusing: a connection the closing listener still took would be reset after it
    // connected, which no L4 proxy retries (bytes may have passed).
    Poll.until(Duration.ofSeconds(10), () -> assertThat(refused(dyingPort)).isTrue());
    // Round robin sends one of the next two connections to the dead instance: no client sees it.
    for (int i = 0; i < 10; i++) {
      assertThat(greetings(port, 1))
          .as("connection %d after it died", i + 1)
          .containsExactly("alive");
      if (i == 1) {
        // Spent from the balancer's one retry budget, counted with the HTTP retries.
        assertThat(sample("teller_retries_total", "service=\"retry\"", "outcome=\"sent\""))
            .isGreaterThan(retriedBefore);
      }
    }
    assertThat(tcpFigures(harness.adminPort(), port).getLong("connectFailures")).isPositive();
    JsonObject counts =
        Http.get("http://127.0.0.1:" + harness.adminPort() + "/counts")
            .json()
            .getJsonObject("instances");
    assertThat(counts.getJsonObject(dyingId).getBoolean("ejected")).isTrue();
    // An L4 ejection and connect failure count where HTTP's do.
    assertThat(sample("teller_ejections_total", "instance=\"" + dyingId + "\"")).isEqualTo(1);
    assertThat(
            sample(
                "teller_upstream_failures_total",
                "instance=\"" + dyingId + "\"",
                "kind=\"connect\""))
        .isGreaterThanOrEqualTo(1);

    // With no instance that answers, the client's connection is closed.
    int dead = TestClusters.freePort();
    defineTcpService("all-dead", "round-robin", dead);
    harness.register("all-dead", refusingPort(), 1);
    harness.register("all-dead", refusingPort(), 1);
    Poll.until(Duration.ofSeconds(10), () -> assertThat(refused(dead)).isFalse());
    try (Socket socket = new Socket("127.0.0.1", dead)) {
      socket.setSoTimeout(10_000);
      assertThat(socket.getInputStream().read()).isEqualTo(-1);
    }
    assertThat(tcpFigures(harness.adminPort(), dead).getLong("failed")).isPositive();
  }

  /** One sample of the balancer's /metrics whose line has every label, or 0. */
  static double sample(String name, String... labels) {
    return io.teller.balancer.testing.Prometheus.sample(
        Http.get("http://127.0.0.1:" + harness.adminPort() + "/metrics").body(), name, labels);
  }

  @Test
  void leastConnectionsCountsOpenConnections() throws Exception {
    int port = TestClusters.freePort();
    defineTcpService("lc", "least-connections", port);
    Map<String, String> ids = new HashMap<>();
    for (String name : List.of("lc-x", "lc-y", "lc-z")) {
      ids.put(name, harness.register("lc", echo(name), 1));
    }
    awaitRouted(port, 3);
    // The probes' connections are closed by the balancer a moment after the client closes them.
    Poll.until(
        Duration.ofSeconds(5),
        () -> assertThat(tcpFigures(harness.adminPort(), port).getLong("open")).isZero());
    List<Conn> open = new ArrayList<>();
    try {
      for (int i = 0; i < 6; i++) {
        open.add(Conn.open(port));
      }
      List<String> first = open.stream().map(Conn::instance).toList();
      assertThat(first).allSatisfy(name -> assertThat(count(first, name)).isEqualTo(2));
      JsonObject byInstance = tcpFigures(harness.adminPort(), port).getJsonObject("openByInstance");
      ids.values().forEach(id -> assertThat(byInstance.getLong(id)).isEqualTo(2));
      JsonObject counts =
          Http.get("http://127.0.0.1:" + harness.adminPort() + "/counts")
              .json()
              .getJsonObject("instances");
      ids.values()
          .forEach(id -> assertThat(counts.getJsonObject(id).getLong("local")).isEqualTo(2));

      // Two connections of lc-x end: the next two go there, where the fewest are open.
      for (Conn conn : List.copyOf(open)) {
        if (conn.instance().equals("lc-x")) {
          conn.close();
          open.remove(conn);
        }
      }
      Poll.until(
          Duration.ofSeconds(5),
          () ->
              assertThat(
                      tcpFigures(harness.adminPort(), port)
                          .getJsonObject("openByInstance")
                          .getLong(ids.get("lc-x")))
                  .isZero());
      open.add(Conn.open(port));
      open.add(Conn.open(port));
      assertThat(open.subList(4, 6)).extracting(Conn::instance).containsExactly("lc-x", "lc-x");
    } finally {
      for (Conn conn : open) {
        conn.close();
      }
    }
  }

  @Test
  void sniPassesTlsThroughToTheServiceNamedInTheClientHello() throws Exception {
    TestCertificates ca = harness.certificates();
    TestCertificates.Issued a = ca.issue(TestCertificates.KeyType.EC, "a.sni.test");
    TestCertificates.Issued b = ca.issue(TestCertificates.KeyType.EC, "x.b.sni.test");
    defineTcpService("sni-a", "round-robin", null, "a.sni.test");
    defineTcpService("sni-b", "round-robin", null, "*.b.sni.test");
    harness.register("sni-a", listen(tls(a), "sni-a-1"), 1);
    harness.register("sni-b", listen(tls(b), "sni-b-1"), 1);

    Poll.until(
        Duration.ofSeconds(10),
        () -> {
          try (TlsConn conn = TlsConn.open(SNI_PORT, "a.sni.test")) {
            assertThat(conn.instance()).isEqualTo("sni-a-1");
          }
        });
    for (int i = 0; i < 3; i++) {
      try (TlsConn conn = TlsConn.open(SNI_PORT, "a.sni.test")) {
        assertThat(conn.instance()).isEqualTo("sni-a-1");
        // The certificate is the instance's own: the balancer did not terminate TLS.
        assertThat(conn.socket().getSession().getPeerPrincipal().getName()).contains("a.sni.test");
        assertThat(conn.echo("ping")).isEqualTo("ping");
      }
      try (TlsConn conn = TlsConn.open(SNI_PORT, "x.b.sni.test")) {
        assertThat(conn.instance()).isEqualTo("sni-b-1");
        assertThat(conn.socket().getSession().getPeerPrincipal().getName())
            .contains("x.b.sni.test");
        assertThat(conn.echo("pong")).isEqualTo("pong");
      }
    }
    // A name no service claims: the handshake fails (a TLS alert), nothing is forwarded.
    assertThatThrownBy(() -> TlsConn.open(SNI_PORT, "nobody.test").close())
        .isInstanceOf(IOException.class);
    // Plain text on an SNI port is closed.
    try (Socket socket = new Socket("127.0.0.1", SNI_PORT)) {
      socket.setSoTimeout(5_000);
      socket
          .getOutputStream()
          .write("GET / HTTP/1.1\r\nHost: a.sni.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(socket.getInputStream().read()).isEqualTo(-1);
    }
    // A client that never sends its ClientHello is closed after tcp.hello.timeout.ms (2 s here).
    try (Socket socket = new Socket("127.0.0.1", SNI_PORT)) {
      socket.setSoTimeout(10_000);
      long started = System.nanoTime();
      assertThat(socket.getInputStream().read()).isEqualTo(-1);
      assertThat(Duration.ofNanos(System.nanoTime() - started))
          .isGreaterThanOrEqualTo(Duration.ofMillis(1_900));
    }
    JsonObject figures = tcpFigures(harness.adminPort(), SNI_PORT);
    assertThat(figures.getString("kind")).isEqualTo("sni");
    assertThat(figures.getLong("failed")).isGreaterThanOrEqualTo(3);
  }

  static NetServerOptions tls(TestCertificates.Issued leaf) {
    return new NetServerOptions()
        .setSsl(true)
        .setKeyCertOptions(
            new PemKeyCertOptions()
                .setCertPath(leaf.certPath().toString())
                .setKeyPath(leaf.keyPath().toString()));
  }

  /** A TLS client connection through the SNI port, server name and host name checked. */
  record TlsConn(SSLSocket socket, String instance) implements AutoCloseable {

    static TlsConn open(int port, String serverName) throws IOException {
      Socket plain = new Socket();
      plain.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
      plain.setSoTimeout(5_000);
      SSLSocket socket =
          (SSLSocket)
              harness
                  .certificates()
                  .clientContext()
                  .getSocketFactory()
                  .createSocket(plain, serverName, port, true);
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
      socket.setSSLParameters(parameters);
      try {
        socket.startHandshake();
        return new TlsConn(socket, readLine(socket.getInputStream()));
      } catch (IOException e) {
        socket.close();
        throw e;
      }
    }

    String echo(String text) throws IOException {
      socket.getOutputStream().write((text + "\n").getBytes(StandardCharsets.UTF_8));
      return readLine(socket.getInputStream());
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** An instance on plain JDK sockets (which half-close), one thread per connection. */
  static final class JdkInstance implements AutoCloseable {
    final ServerSocket server;
    final List<Socket> accepted = new java.util.concurrent.CopyOnWriteArrayList<>();

    JdkInstance(java.util.function.Consumer<Socket> serve) throws IOException {
      server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
      Thread acceptor =
          new Thread(
              () -> {
                while (!server.isClosed()) {
                  try {
                    Socket socket = server.accept();
                    accepted.add(socket);
                    Thread connection = new Thread(() -> serve.accept(socket), "jdk-instance");
                    connection.setDaemon(true);
                    connection.start();
                  } catch (IOException e) {
                    return; // closed
                  }
                }
              },
              "jdk-instance-acceptor");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    int port() {
      return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      server.close();
      for (Socket socket : accepted) {
        socket.close();
      }
    }
  }

  static byte[] random(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  @Test
  void afterTheClientsFinTheAnswerStillFlowsWhole() throws Exception {
    // The instance reads until the client's FIN, and only then answers: all it sends comes after.
    int port = TestClusters.freePort();
    defineTcpService("half-client", "round-robin", port);
    try (JdkInstance instance =
        new JdkInstance(
            socket -> {
              try (socket) {
                byte[] all = socket.getInputStream().readAllBytes();
                socket.getOutputStream().write(all);
              } catch (IOException e) {
                LOG.debug("half-client instance: {}", e.toString());
              }
            })) {
      harness.register("half-client", instance.port(), 1);
      Poll.until(
          Duration.ofSeconds(10),
          () -> {
            try (Socket probe = new Socket("127.0.0.1", port)) {
              probe.setSoTimeout(5_000);
              probe.getOutputStream().write('x');
              probe.shutdownOutput();
              assertThat(probe.getInputStream().readAllBytes()).containsExactly('x');
            }
          });

      byte[] sent = random(1024 * 1024, 1);
      try (Socket socket = new Socket("127.0.0.1", port)) {
        socket.setSoTimeout(10_000);
        socket.getOutputStream().write(sent);
        socket.shutdownOutput();
        byte[] back = socket.getInputStream().readAllBytes();
        assertThat(back.length).isEqualTo(sent.length);
        assertThat(back).isEqualTo(sent);
      }
      Poll.until(
          Duration.ofSeconds(5),
          () -> assertThat(tcpFigures(harness.adminPort(), port).getLong("open")).isZero());
    }
  }

  @Test
  void afterTheInstancesFinTheClientStillSendsWhole() throws Exception {
    // The instance sends 1 MiB and its FIN at once, then reads what the client sends until its FIN.
    int port = TestClusters.freePort();
    defineTcpService("half-instance", "round-robin", port);
    byte[] answer = random(1024 * 1024, 2);
    java.util.concurrent.BlockingQueue<byte[]> received =
        new java.util.concurrent.LinkedBlockingQueue<>();
    try (JdkInstance instance =
        new JdkInstance(
            socket -> {
              try (socket) {
                socket.getOutputStream().write(answer);
                socket.shutdownOutput();
                received.add(socket.getInputStream().readAllBytes());
              } catch (IOException e) {
                LOG.debug("half-instance instance: {}", e.toString());
              }
            })) {
      harness.register("half-instance", instance.port(), 1);
      Poll.until(
          Duration.ofSeconds(10),
          () -> {
            try (Socket probe = new Socket("127.0.0.1", port)) {
              probe.setSoTimeout(5_000);
              assertThat(probe.getInputStream().read()).isNotEqualTo(-1);
            }
          });

      byte[] sent = random(1024 * 1024, 3);
      try (Socket socket = new Socket("127.0.0.1", port)) {
        socket.setSoTimeout(10_000);
        byte[] got = socket.getInputStream().readAllBytes();
        assertThat(got).isEqualTo(answer);
        // The instance's FIN came; the client's direction is still open.
        socket.getOutputStream().write(sent);
        socket.shutdownOutput();
        byte[] atInstance = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (atInstance == null && System.nanoTime() < deadline) {
          byte[] next = received.poll(100, TimeUnit.MILLISECONDS);
          if (next != null && next.length > 0) {
            atInstance = next;
          }
        }
        assertThat(atInstance).isNotNull();
        assertThat(atInstance.length).isEqualTo(sent.length);
        assertThat(atInstance).isEqualTo(sent);
      }
      Poll.until(
          Duration.ofSeconds(5),
          () -> assertThat(tcpFigures(harness.adminPort(), port).getLong("open")).isZero());
    }
  }

  @Test
  void aTcpPortAddedAtRunTimeOpensAListenerAndRemovingItClosesIt() throws Exception {
    int port = TestClusters.freePort();
    assertThat(refused(port)).isTrue();
    defineTcpService("dyn", "round-robin", null);
    harness.register("dyn", echo("dyn-1"), 1);
    defineTcpService("dyn", "round-robin", port);
    Poll.until(
        Duration.ofSeconds(10), () -> assertThat(greetings(port, 1)).containsExactly("dyn-1"));
    JsonObject figures = tcpFigures(harness.adminPort(), port);
    assertThat(figures.getString("origin")).isEqualTo("registry");
    assertThat(figures.getString("service")).isEqualTo("dyn");
    assertThat(figures.getBoolean("listening")).isTrue();

    try (Conn before = Conn.open(port)) {
      defineTcpService("dyn", "round-robin", null);
      Poll.until(Duration.ofSeconds(10), () -> assertThat(refused(port)).isTrue());
      assertThat(tcpFigures(harness.adminPort(), port).getBoolean("listening")).isFalse();
      // A connection open before goes on for the service's drain time.
      assertThat(before.echo("still served")).isEqualTo("still served");
    }
  }
}
