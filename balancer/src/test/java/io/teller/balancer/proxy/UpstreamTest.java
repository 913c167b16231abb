package io.teller.balancer.proxy;

import static io.teller.balancer.testing.BalancerHarness.await;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.teller.balancer.BalancerSettings;
import io.teller.balancer.tcp.Transports;
import io.teller.balancer.testing.BalancerHarness;
import io.teller.common.testing.Poll;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.transport.Transport;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The request path's own HTTP/1.1 connections to the instances ({@link Upstream}, {@link
 * UpstreamConnection}, {@link UpstreamCall}), through a real balancer (its plain HTTP listener, so
 * that the client's bytes are the test's too) in front of backends that are raw server sockets: the
 * test writes every byte of each answer, and sees every connection the balancer opens and closes.
 * The last tests drive an {@link Upstream} directly, on a Vert.x context of their own.
 *
 * <p>Each test has its own service and backend; every backend answers a probe ({@code .../ready})
 * with {@code Connection: close}, so that once its route is up and the probes' connections are
 * closed, the test starts with no connection to its backend.
 */
@Timeout(120)
class UpstreamTest {

  static final Duration DEADLINE = Duration.ofSeconds(10);

  @TempDir static Path dir;
  static BalancerHarness harness;

  /** What a test opened: closed after it, last first. */
  final List<AutoCloseable> opened = new ArrayList<>();

  @BeforeAll
  static void start() {
    // The transport the balancer runs on by default (io_uring, else epoll, else NIO), rather than
    // the harness's NIO: the native ones read a backend's close even while a slow client holds
    // the answer back.
    harness = new BalancerHarness(dir, false, Map.of(BalancerSettings.TRANSPORT, "auto"));
  }

  @AfterAll
  static void stop() {
    if (harness != null) {
      harness.close();
    }
  }

  @AfterEach
  void closeOpened() throws Exception {
    Exception first = null;
    for (int i = opened.size() - 1; i >= 0; i--) {
      try {
        opened.get(i).close();
      } catch (Exception e) {
        if (first == null) {
          first = e;
        }
      }
    }
    opened.clear();
    if (first != null) {
      throw first;
    }
  }

  // Through the balancer.

  @Test
  void twentySequentialRequestsGoOverOneBackendConnection() throws Exception {
    RawBackend backend = backend(RawBackend::ok);
    route("up-keep-alive", backend);
    int before = backend.connections.size();

    try (Client client = client()) {
      for (int i = 0; i < 20; i++) {
        Response response = client.get("/up-keep-alive/" + i);
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.text()).isEqualTo("ok /up-keep-alive/" + i);
      }
    }

    assertThat(backend.connections).hasSize(before + 1);
    List<Request> requests = backend.requests("/up-keep-alive/");
    assertThat(requests).hasSize(20);
    assertThat(requests)
        .extracting(Request::connection)
        .containsOnly(backend.connections.get(before).id);
  }

  @Test
  void anAnswerWithConnectionCloseEndsThatConnectionAndTheNextRequestGetsANewOne()
      throws Exception {
    RawBackend backend =
        backend(
            (conn, request) -> {
              if (request.uri().endsWith("/first")) {
                // Says close, but leaves the socket open: only the balancer can close it.
                conn.write(
                    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nfirst");
                return true;
              }
              return RawBackend.ok(conn, request);
            });
    route("up-conn-close", backend);

    try (Client client = client()) {
      Response first = client.get("/up-conn-close/first");
      assertThat(first.status()).isEqualTo(200);
      assertThat(first.text()).isEqualTo("first");
      // Hop-by-hop: the client's own connection stays open for its next request.
      assertThat(first.headers().get("connection")).isNull();
      Response second = client.get("/up-conn-close/second");
      assertThat(second.status()).isEqualTo(200);
      assertThat(second.text()).isEqualTo("ok /up-conn-close/second");
    }

    Request first = backend.request("/up-conn-close/first");
    Request second = backend.request("/up-conn-close/second");
    assertThat(second.connection()).isNotEqualTo(first.connection());
    // The balancer closed the connection it was told to close, and sent nothing more on it.
    backend.connection(first.connection()).eof.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(backend.requests(""))
        .filteredOn(request -> request.connection() == first.connection())
        .hasSize(1);
  }

  @Test
  void aBackendClosingAnIdleKeepAliveConnectionIsNoticedAndTheNextRequestSucceeds()
      throws Exception {
    RawBackend backend = backend(RawBackend::ok);
    route("up-idle-close", backend);

    try (Client client = client()) {
      assertThat(client.get("/up-idle-close/first").status()).isEqualTo(200);
      Conn used = backend.connection(backend.request("/up-idle-close/first").connection());
      // The backend's keep-alive timeout: it closes the idle connection (a FIN), and the balancer
      // closes its end in turn (the backend then reads the end of the stream).
      used.socket.shutdownOutput();
      used.eof.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);

      Response second = client.get("/up-idle-close/second");
      assertThat(second.status()).isEqualTo(200);
      assertThat(second.text()).isEqualTo("ok /up-idle-close/second");
      assertThat(backend.request("/up-idle-close/second").connection()).isNotEqualTo(used.id);
    }
  }

  @Test
  void aBodylessGetOnAConnectionClosedUnderItIsRetriedOnAnotherInstance() throws Exception {
    // The race the previous test avoids: the request reaches a connection the backend is closing.
    RawBackend closing =
        backend(
            (conn, request) -> {
              conn.socket.close();
              return false;
            });
    RawBackend good = backend(RawBackend::ok);
    harness.defineService(
        "up-retry",
        "{\"routes\": [{\"pathPrefix\": \"/up-retry\"}], \"strategy\": \"round-robin\"}");
    String closingId = harness.register("up-retry", closing.port(), 1);
    String goodId = harness.register("up-retry", good.port(), 1);
    harness.awaitInstances(closingId, goodId);
    awaitRouted("up-retry", closing, good);

    try (Client client = client()) {
      for (int i = 0; i < 4; i++) {
        Response response = client.get("/up-retry/" + i);
        assertThat(response.status()).as("answer: %s", response.text()).isEqualTo(200);
        assertThat(response.text()).isEqualTo("ok /up-retry/" + i);
      }
    }
    // Round robin sent some of them to the closing instance first: those were retried.
    assertThat(closing.requests("/up-retry/")).isNotEmpty();
    assertThat(good.requests("/up-retry/")).hasSize(4);
  }

  @Test
  void aHeadAnswerWithContentLengthAndNoBodyIsFollowedByAGetOnTheSameConnections()
      throws Exception {
    RawBackend backend =
        backend(
            (conn, request) -> {
              if (request.method().equals("HEAD")) {
                conn.write(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1234\r\n\r\n");
                return true;
              }
              return RawBackend.ok(conn, request);
            });
    route("up-head", backend);
    int before = backend.connections.size();

    try (Client client = client()) {
      client.send("HEAD /up-head/resource HTTP/1.1\r\nHost: localhost\r\n\r\n");
      Response head = client.read(true);
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.headers().get("content-length")).isEqualTo("1234");
      assertThat(head.body()).isEmpty();
      // Read as the client's next answer, any byte of a body after the HEAD's would show here.
      Response get = client.get("/up-head/resource");
      assertThat(get.status()).isEqualTo(200);
      assertThat(get.text()).isEqualTo("ok /up-head/resource");
    }

    assertThat(backend.connections).hasSize(before + 1);
    assertThat(backend.requests("/up-head/"))
        .extracting(Request::method, Request::connection)
        .containsExactly(
            tuple("HEAD", backend.connections.get(before).id),
            tuple("GET", backend.connections.get(before).id));
  }

  @Test
  void interimAnswersAreSkippedAndTheFinalAnswerRelayed() throws Exception {
    RawBackend backend =
        backend(
            (conn, request) -> {
              conn.write("HTTP/1.1 100 Continue\r\n\r\n");
              if (request.method().equals("HEAD")) {
                conn.write("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n");
                conn.write("HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n");
                return true;
              }
              return RawBackend.ok(conn, request);
            });
    route("up-continue", backend);
    int before = backend.connections.size();

    try (Client client = client()) {
      Response first = client.get("/up-continue/first");
      assertThat(first.status()).isEqualTo(200);
      assertThat(first.text()).isEqualTo("ok /up-continue/first");
      // The interim answers do not put the connection's answers out of step with its requests.
      client.send("HEAD /up-continue/head HTTP/1.1\r\nHost: localhost\r\n\r\n");
      Response head = client.read(true);
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.headers().get("content-length")).isEqualTo("42");
      Response last = client.get("/up-continue/last");
      assertThat(last.status()).isEqualTo(200);
      assertThat(last.text()).isEqualTo("ok /up-continue/last");
    }

    assertThat(backend.connections).hasSize(before + 1);
    assertThat(backend.requests("/up-continue/")).hasSize(3);
  }

  @Test
  void anAnswersHeadReachesTheClientBeforeItsBodyIsSent() throws Exception {
    // The backend sends the body only once the client has the head: a balancer that held the
    // head back for the body (to send a small answer in one write) would wait here forever.
    CompletableFuture<Void> headSeen = new CompletableFuture<>();
    RawBackend backend =
        backend(
            (conn, request) -> {
              conn.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
              conn.out.flush();
              try {
                headSeen.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
              } catch (Exception e) {
                conn.socket.close();
                return false;
              }
              conn.write("5\r\nlater\r\n0\r\n\r\n");
              return true;
            });
    route("up-head-first", backend);

    try (Client client = client()) {
      client.send("GET /up-head-first/x HTTP/1.1\r\nHost: localhost\r\n\r\n");
      List<String> head = readHead(client.in);
      assertThat(head).isNotNull();
      assertThat(head.get(0)).startsWith("HTTP/1.1 200");
      headSeen.complete(null);
      assertThat(new String(readBody(client.in, fields(head)), ISO_8859_1)).isEqualTo("later");
    }
  }

  @Test
  void anAnswerEndedByTheBackendClosingReachesTheClientWhole() throws Exception {
    byte[] large = randomBytes(4 * 1024 * 1024 + 3, 6);
    RawBackend backend =
        backend(
            (conn, request) -> {
              // No Content-Length, not chunked: the body ends where the connection does.
              conn.write("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n");
              if (request.uri().endsWith("/large")) {
                conn.out.write(large);
              } else {
                conn.write("a short body, then the end of the stream");
              }
              conn.out.flush();
              conn.socket.close();
              return false;
            });
    route("up-until-close", backend);

    try (Client client = client()) {
      Response small = client.get("/up-until-close/small");
      assertThat(small.status()).isEqualTo(200);
      assertThat(small.text()).isEqualTo("a short body, then the end of the stream");
      Response whole = client.get("/up-until-close/large");
      assertThat(whole.status()).isEqualTo(200);
      assertThat(whole.body().length).isEqualTo(large.length);
      assertThat(Arrays.equals(whole.body(), large)).as("the body's bytes").isTrue();
    }
  }

  @Test
  void anAnswerWithAHeaderLineOverEightKibIsA502AndTheBalancerGoesOn() throws Exception {
    RawBackend backend =
        backend(
            (conn, request) -> {
              if (request.uri().endsWith("/huge")) {
                conn.write(
                    "HTTP/1.1 200 OK\r\nX-Huge: "
                        + "h".repeat(9 * 1024)
                        + "\r\nContent-Length: 2\r\n\r\nok");
                return true;
              }
              return RawBackend.ok(conn, request);
            });
    route("up-huge-header", backend);
    assertUnreadableIsA502ThenTheNextRequestIsServed(backend, "up-huge-header", "/huge");
  }

  @Test
  void anAnswerWithAGarbageStatusLineIsA502AndTheBalancerGoesOn() throws Exception {
    RawBackend backend =
        backend(
            (conn, request) -> {
              if (request.uri().endsWith("/garbage")) {
                // Then silence, the connection open: only the bytes can tell it is no answer.
                conn.write("this is not http at all\r\n\r\n");
                return true;
              }
              return RawBackend.ok(conn, request);
            });
    route("up-garbage", backend);
    assertUnreadableIsA502ThenTheNextRequestIsServed(backend, "up-garbage", "/garbage");
  }

  private void assertUnreadableIsA502ThenTheNextRequestIsServed(
      RawBackend backend, String service, String path) throws Exception {
    try (Client client = client()) {
      Response bad = client.get("/" + service + path);
      assertThat(bad.status()).as("answer: %s", bad.text()).isEqualTo(502);
      // The cause, in one short line.
      assertThat(bad.text()).contains("unreadable answer").endsWith("\n");
      assertThat(bad.text().strip()).doesNotContain("\n").hasSizeLessThan(400);
      // The balancer closed the connection that carried it.
      Request carried = backend.request("/" + service + path);
      backend.connection(carried.connection()).eof.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);

      // The same client connection, the next request: a new backend connection, a normal answer.
      Response next = client.get("/" + service + "/next");
      assertThat(next.status()).isEqualTo(200);
      assertThat(next.text()).isEqualTo("ok /" + service + "/next");
      assertThat(backend.request("/" + service + "/next").connection())
          .isNotEqualTo(carried.connection());
    }
  }

  @Test
  void aOneMibPostWithContentLengthReachesTheBackendExactly() throws Exception {
    RawBackend backend = backend(UpstreamTest::digestAnswer);
    route("up-post-fixed", backend);
    byte[] body = randomBytes(1024 * 1024 + 17, 8);

    try (Client client = client()) {
      client.send(
          "POST /up-post-fixed/upload HTTP/1.1\r\nHost: localhost\r\n"
              + "Content-Type: application/octet-stream\r\nContent-Length: "
              + body.length
              + "\r\n\r\n");
      client.send(body);
      Response response = client.read(false);
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.text()).isEqualTo(body.length + " " + sha256(body));
    }

    Request received = backend.request("/up-post-fixed/upload");
    assertThat(received.headers().get("content-length")).isEqualTo(String.valueOf(body.length));
    assertThat(received.headers()).doesNotContainKey("transfer-encoding");
    assertThat(received.body().length).isEqualTo(body.length);
    assertThat(Arrays.equals(received.body(), body)).as("the body's bytes").isTrue();
  }

  @Test
  void aOneMibChunkedPostReachesTheBackendExactly() throws Exception {
    RawBackend backend = backend(UpstreamTest::digestAnswer);
    route("up-post-chunked", backend);
    byte[] body = randomBytes(1024 * 1024 + 17, 9);

    try (Client client = client()) {
      client.send(
          "POST /up-post-chunked/upload HTTP/1.1\r\nHost: localhost\r\n"
              + "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
      for (int at = 0; at < body.length; at += 10_000) {
        int length = Math.min(10_000, body.length - at);
        client.send(Integer.toHexString(length) + "\r\n");
        client.send(Arrays.copyOfRange(body, at, at + length));
        client.send("\r\n");
      }
      client.send("0\r\n\r\n");
      Response response = client.read(false);
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.text()).isEqualTo(body.length + " " + sha256(body));
    }

    Request received = backend.request("/up-post-chunked/upload");
    assertThat(received.headers()).doesNotContainKey("content-length");
    assertThat(received.headers().get("transfer-encoding")).isEqualTo("chunked");
    assertThat(received.body().length).isEqualTo(body.length);
    assertThat(Arrays.equals(received.body(), body)).as("the body's bytes").isTrue();
  }

  @Test
  void a413AnsweredBeforeALargeUploadIsReadReachesTheClientAndTheBalancerGoesOn() throws Exception {
    long size = 32L * 1024 * 1024;
    RawBackend backend =
        new RawBackend(
            false,
            (conn, request) -> {
              if (request.uri().endsWith("/upload")) {
                // At once, without reading a byte of the body; the socket stays open, unread.
                conn.write(
                    "HTTP/1.1 413 Payload Too Large\r\nContent-Type: text/plain\r\n"
                        + "Content-Length: 9\r\nConnection: close\r\n\r\ntoo large");
                return false;
              }
              return RawBackend.ok(conn, request);
            });
    opened.add(backend);
    route("up-too-large", backend);

    Client client = client();
    client.send(
        "POST /up-too-large/upload HTTP/1.1\r\nHost: localhost\r\n"
            + "Content-Type: application/octet-stream\r\nContent-Length: "
            + size
            + "\r\n\r\n");
    // The client uploads on a thread of its own, as it reads the answer on this one.
    AtomicLong uploaded = new AtomicLong();
    AtomicReference<IOException> uploadFailure = new AtomicReference<>();
    Thread uploader =
        new Thread(
            () -> {
              byte[] piece = new byte[64 * 1024];
              try {
                while (uploaded.get() < size) {
                  client.out.write(piece);
                  uploaded.addAndGet(piece.length);
                }
                client.out.flush();
              } catch (IOException e) {
                uploadFailure.set(e);
              }
            },
            "up-too-large-uploader");
    uploader.setDaemon(true);
    uploader.start();

    Response refused = client.read(false);
    assertThat(refused.status()).isEqualTo(413);
    assertThat(refused.text()).isEqualTo("too large");

    // The client is not left hanging mid-upload.
    uploader.join(DEADLINE.toMillis());
    assertThat(uploader.isAlive())
        .as("the upload is stuck after %d of %d bytes", uploaded.get(), size)
        .isFalse();
    // The balancer closed the backend's connection (it cannot carry another request: the body
    // it announced was never sent whole), having sent it only part of the upload.
    Conn refusing = backend.connection(backend.request("/up-too-large/upload").connection());
    refusing.drain.complete(null);
    refusing.eof.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(refusing.drained.get()).isLessThan(size);

    // The balancer took the rest of the upload and dropped it, and kept the client's connection
    // for its next request.
    assertThat(uploadFailure.get()).isNull();
    assertThat(uploaded.get()).isEqualTo(size);
    Response same = client.get("/up-too-large/same-connection");
    assertThat(same.status()).isEqualTo(200);
    assertThat(same.text()).isEqualTo("ok /up-too-large/same-connection");
    // And a new client connection is served as usual.
    try (Client another = client()) {
      Response next = another.get("/up-too-large/next");
      assertThat(next.status()).isEqualTo(200);
      assertThat(next.text()).isEqualTo("ok /up-too-large/next");
    }
  }

  // An Upstream on its own.

  @Test
  void withALimitOfOneASecondAcquireWaitsAndGetsTheFirstConnectionOnceReleased() throws Exception {
    RawBackend backend = backend(RawBackend::ok);
    ContextInternal context = context();
    Upstream upstream = upstream(context, 2_000, 1);

    UpstreamConnection first =
        onContext(context, () -> upstream.acquire("127.0.0.1", backend.port()));
    CompletableFuture<UpstreamConnection> second =
        start(context, () -> upstream.acquire("127.0.0.1", backend.port()));
    // Still waiting well within the connect timeout (2 s): no second connection is made.
    assertThatThrownBy(() -> second.get(300, TimeUnit.MILLISECONDS))
        .isInstanceOf(TimeoutException.class);

    onContext(
        context,
        () -> {
          upstream.release(first, true);
          return Future.succeededFuture();
        });

    assertThat(second.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)).isSameAs(first);
    Poll.until(DEADLINE, () -> assertThat(backend.connections).hasSize(1));
    assertThat(backend.connections.get(0).eof).isNotDone();
  }

  @Test
  void withALimitOfOneASecondAcquireFailsWithATimeoutWhenNoneIsReleased() throws Exception {
    RawBackend backend = backend(RawBackend::ok);
    ContextInternal context = context();
    Upstream upstream = upstream(context, 300, 1);

    UpstreamConnection first =
        onContext(context, () -> upstream.acquire("127.0.0.1", backend.port()));
    long started = System.nanoTime();
    CompletableFuture<UpstreamConnection> second =
        start(context, () -> upstream.acquire("127.0.0.1", backend.port()));

    assertThatThrownBy(() -> second.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(TimeoutException.class)
        .hasMessageContaining("came free within 300 ms");
    long tookMillis = (System.nanoTime() - started) / 1_000_000;
    assertThat(tookMillis).isBetween(250L, 5_000L);
    // The held connection is untouched: still open, and still the only one.
    assertThat(onContext(context, () -> Future.succeededFuture(first.reusable()))).isTrue();
    Poll.until(DEADLINE, () -> assertThat(backend.connections).hasSize(1));
  }

  @Test
  void withALimitOfOneAWaiterGetsANewConnectionWhenTheHeldOneCloses() throws Exception {
    RawBackend backend = backend(RawBackend::ok);
    ContextInternal context = context();
    Upstream upstream = upstream(context, 2_000, 1);

    UpstreamConnection first =
        onContext(context, () -> upstream.acquire("127.0.0.1", backend.port()));
    CompletableFuture<UpstreamConnection> second =
        start(context, () -> upstream.acquire("127.0.0.1", backend.port()));
    onContext(
        context,
        () -> {
          first.channel.close();
          return Future.succeededFuture();
        });

    UpstreamConnection replacement = second.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(replacement).isNotSameAs(first);
    assertThat(onContext(context, () -> Future.succeededFuture(replacement.reusable()))).isTrue();
    Poll.until(DEADLINE, () -> assertThat(backend.connections).hasSize(2));
  }

  @Test
  void closeClosesIdleConnectionsAndTheBackendSeesTheirEnd() throws Exception {
    RawBackend backend = backend(RawBackend::ok);
    ContextInternal context = context();
    Upstream upstream = new Upstream(context, 2_000, 60_000);

    UpstreamConnection first =
        onContext(context, () -> upstream.acquire("127.0.0.1", backend.port()));
    UpstreamConnection second =
        onContext(context, () -> upstream.acquire("127.0.0.1", backend.port()));
    assertThat(second).isNotSameAs(first);
    onContext(
        context,
        () -> {
          upstream.release(first, true);
          upstream.release(second, true);
          return Future.succeededFuture();
        });
    Poll.until(DEADLINE, () -> assertThat(backend.connections).hasSize(2));
    assertThat(backend.connections).allSatisfy(conn -> assertThat(conn.eof).isNotDone());

    onContext(context, upstream::close);

    for (Conn conn : backend.connections) {
      conn.eof.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }
    assertThatThrownBy(
            () -> onContext(context, () -> upstream.acquire("127.0.0.1", backend.port())))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void closeClosesConnectionsInUseAndFailsTheWaiters() throws Exception {
    RawBackend backend = backend(RawBackend::ok);
    ContextInternal context = context();
    Upstream upstream = upstream(context, 5_000, 1);

    onContext(context, () -> upstream.acquire("127.0.0.1", backend.port()));
    CompletableFuture<UpstreamConnection> waiting =
        start(context, () -> upstream.acquire("127.0.0.1", backend.port()));
    Poll.until(DEADLINE, () -> assertThat(backend.connections).hasSize(1));

    onContext(context, upstream::close);

    // Failed at once, not at the end of the connect timeout (5 s).
    assertThatThrownBy(() -> waiting.get(2, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(IllegalStateException.class);
    backend.connections.get(0).eof.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(backend.connections).hasSize(1);
  }

  /**
   * On epoll and io_uring (the balancer's usual transports, not the harness's NIO) a channel reads
   * its peer's close even while its reader holds it back: the whole answer may then be waiting in
   * the call when the connection closes, and must still be delivered whole.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"nio", "epoll", "io_uring"})
  void anAnswerHeldBackByItsReaderIsDeliveredWholeThoughTheBackendClosedMeanwhile(String transport)
      throws Exception {
    byte[] body = randomBytes(64 * 1024 + 5, 12);
    RawBackend backend =
        backend(
            (conn, request) -> {
              conn.write(
                  "HTTP/1.1 200 OK\r\nContent-Length: "
                      + body.length
                      + "\r\nConnection: close\r\n\r\n");
              conn.out.write(body);
              conn.out.flush();
              conn.socket.close();
              return false;
            });
    Transport chosen = Transports.choose(transport);
    ContextInternal context = context(chosen);
    Upstream upstream = upstream(context, 2_000, 1);
    UpstreamConnection connection =
        onContext(context, () -> upstream.acquire("127.0.0.1", backend.port()));

    ByteArrayOutputStream received = new ByteArrayOutputStream();
    CompletableFuture<Void> ended = new CompletableFuture<>();
    HttpClientResponse answer =
        onContext(
            context,
            () ->
                connection
                    .send(
                        HttpMethod.GET,
                        "/held",
                        io.vertx.core.http.HttpHeaders.headers().set("host", "localhost"),
                        true)
                    .answer()
                    .map(
                        head -> {
                          // Held back from the head on: nothing of the body is taken yet.
                          head.pause();
                          head.handler(data -> received.writeBytes(data.getBytes()));
                          head.endHandler(v -> ended.complete(null));
                          head.exceptionHandler(ended::completeExceptionally);
                          return head;
                        }));
    assertThat(answer.statusCode()).isEqualTo(200);
    // The backend wrote it all and closed; a native transport sees the close meanwhile (NIO reads
    // nothing while held back, so sees it only once resumed).
    backend.connections.get(0).eof.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    if (chosen != Transport.NIO) {
      Poll.until(
          DEADLINE,
          () ->
              assertThat(
                      onContext(
                          context, () -> Future.succeededFuture(connection.channel.isActive())))
                  .isFalse());
    }

    onContext(
        context,
        () -> {
          answer.resume();
          return Future.succeededFuture();
        });

    ended.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    byte[] whole = onContext(context, () -> Future.succeededFuture(received.toByteArray()));
    assertThat(whole.length).isEqualTo(body.length);
    assertThat(Arrays.equals(whole, body)).as("the body's bytes").isTrue();
  }

  /**
   * An answer followed, in the same bytes, by another nobody asked for (a desync): the call must
   * end with its own answer, and the connection must not carry another request.
   */
  @Test
  void bytesAfterAHeldBackAnswerAreNotPartOfItAndTheConnectionIsNotReused() throws Exception {
    RawBackend backend =
        backend(
            (conn, request) -> {
              conn.write(
                  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
                      + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextra");
              return true;
            });
    ContextInternal context = context();
    Upstream upstream = upstream(context, 2_000, 1);
    UpstreamConnection connection =
        onContext(context, () -> upstream.acquire("127.0.0.1", backend.port()));

    ByteArrayOutputStream received = new ByteArrayOutputStream();
    CompletableFuture<Void> ended = new CompletableFuture<>();
    List<String> afterTheEnd = new CopyOnWriteArrayList<>();
    HttpClientResponse answer =
        onContext(
            context,
            () ->
                connection
                    .send(
                        HttpMethod.GET,
                        "/desync",
                        io.vertx.core.http.HttpHeaders.headers().set("host", "localhost"),
                        true)
                    .answer()
                    .map(
                        head -> {
                          // Held back: both answers are decoded from the one read meanwhile.
                          head.pause();
                          head.handler(
                              data -> {
                                if (ended.isDone()) {
                                  afterTheEnd.add(data.toString());
                                }
                                received.writeBytes(data.getBytes());
                              });
                          head.endHandler(v -> ended.complete(null));
                          head.exceptionHandler(ended::completeExceptionally);
                          return head;
                        }));
    Poll.until(DEADLINE, () -> assertThat(backend.requests("/desync")).hasSize(1));

    onContext(
        context,
        () -> {
          answer.resume();
          return Future.succeededFuture();
        });

    ended.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(onContext(context, () -> Future.succeededFuture(received.toString(ISO_8859_1))))
        .isEqualTo("hello");
    assertThat(afterTheEnd).isEmpty();
    backend.connections.get(0).eof.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(onContext(context, () -> upstream.acquire("127.0.0.1", backend.port())))
        .isNotSameAs(connection);
  }

  // Helpers.

  RawBackend backend(RawBackend.Script script) {
    RawBackend backend = new RawBackend(true, script);
    opened.add(backend);
    return backend;
  }

  Client client() throws IOException {
    Client client = new Client(harness.httpPort());
    opened.add(client);
    return client;
  }

  /** A Vert.x event-loop context of the test's own (its Vert.x closed after the test). */
  ContextInternal context() {
    return context(Transport.NIO);
  }

  ContextInternal context(Transport transport) {
    Vertx vertx = Vertx.builder().withTransport(transport).build();
    opened.add(() -> await(vertx.close()));
    return (ContextInternal) vertx.getOrCreateContext();
  }

  /** An Upstream with {@code limit} connections per address, closed after the test. */
  Upstream upstream(ContextInternal context, int connectMillis, int limit) {
    Upstream upstream = new Upstream(context, connectMillis, 60_000, limit);
    opened.add(() -> onContext(context, upstream::close));
    return upstream;
  }

  /** Runs {@code action} on {@code context}; its result, within the deadline. */
  static <T> T onContext(ContextInternal context, Supplier<Future<T>> action) throws Exception {
    return start(context, action).get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  static <T> CompletableFuture<T> start(ContextInternal context, Supplier<Future<T>> action) {
    CompletableFuture<T> result = new CompletableFuture<>();
    context.runOnContext(
        v -> {
          try {
            action
                .get()
                .onComplete(
                    done -> {
                      if (done.succeeded()) {
                        result.complete(done.result());
                      } else {
                        result.completeExceptionally(done.cause());
                      }
                    });
          } catch (RuntimeException e) {
            result.completeExceptionally(e);
          }
        });
    return result;
  }

  /** Defines {@code service} on {@code /service}, its instance {@code backend}, and waits. */
  void route(String service, RawBackend backend) throws Exception {
    harness.defineService(service, "{\"routes\": [{\"pathPrefix\": \"/" + service + "\"}]}");
    harness.register(service, backend.port(), 1);
    awaitRouted(service, backend);
  }

  /**
   * Waits until the balancer routes {@code /service} to a backend, then until every connection the
   * probes opened is closed (they are answered with {@code Connection: close}).
   */
  void awaitRouted(String service, RawBackend... backends) throws Exception {
    Poll.until(
        DEADLINE,
        () -> {
          try (Client probe = new Client(harness.httpPort())) {
            assertThat(probe.get("/" + service + "/ready").status()).isEqualTo(200);
          }
        });
    for (RawBackend backend : backends) {
      Poll.until(
          DEADLINE,
          () -> assertThat(backend.connections).allSatisfy(conn -> assertThat(conn.eof).isDone()));
    }
  }

  /** Answers with the body's length and SHA-256. */
  static boolean digestAnswer(Conn conn, Request request) throws IOException {
    String text = request.body().length + " " + sha256(request.body());
    conn.write("HTTP/1.1 200 OK\r\nContent-Length: " + text.length() + "\r\n\r\n" + text);
    return true;
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] randomBytes(int length, long seed) {
    byte[] bytes = new byte[length];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  // HTTP/1.1 as bytes, for both ends.

  /** The lines of a message's head (start line first), or null at the end of the stream. */
  static List<String> readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        if (head.size() == 0) {
          return null;
        }
        throw new EOFException("the stream ended in a head: " + head.toString(ISO_8859_1));
      }
      head.write(b);
      if (b == (matched % 2 == 0 ? '\r' : '\n')) {
        matched++;
      } else {
        matched = b == '\r' ? 1 : 0;
      }
    }
    String text = head.toString(ISO_8859_1);
    return List.of(text.substring(0, text.length() - 4).split("\r\n"));
  }

  /** The head's fields, names in lower case (repeated ones joined by commas). */
  static Map<String, String> fields(List<String> head) {
    Map<String, String> fields = new LinkedHashMap<>();
    for (String line : head.subList(1, head.size())) {
      int colon = line.indexOf(':');
      String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = line.substring(colon + 1).trim();
      fields.merge(name, value, (a, b) -> a + ", " + b);
    }
    return fields;
  }

  /** The body a message's fields announce: chunked, by length, or none. */
  static byte[] readBody(InputStream in, Map<String, String> fields) throws IOException {
    String coding = fields.get("transfer-encoding");
    if (coding != null && coding.toLowerCase(Locale.ROOT).endsWith("chunked")) {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      while (true) {
        String line = readLine(in);
        int semicolon = line.indexOf(';');
        int size =
            Integer.parseInt((semicolon < 0 ? line : line.substring(0, semicolon)).trim(), 16);
        if (size == 0) {
          while (!readLine(in).isEmpty()) {
            // trailers: none expected, skipped
          }
          return body.toByteArray();
        }
        body.write(readExactly(in, size));
        if (!readLine(in).isEmpty()) {
          throw new IOException("no CRLF after a chunk");
        }
      }
    }
    String length = fields.get("content-length");
    return length == null ? new byte[0] : readExactly(in, Integer.parseInt(length));
  }

  static byte[] readExactly(InputStream in, int length) throws IOException {
    byte[] bytes = in.readNBytes(length);
    if (bytes.length < length) {
      throw new EOFException("the stream ended " + bytes.length + " bytes into " + length);
    }
    return bytes;
  }

  static String readLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    for (int b; (b = in.read()) != '\n'; ) {
      if (b < 0) {
        throw new EOFException("the stream ended in a line: " + line);
      }
      if (b != '\r') {
        line.append((char) b);
      }
    }
    return line.toString();
  }

  /** A request as the backend received it. */
  record Request(
      int connection, String method, String uri, Map<String, String> headers, byte[] body) {}

  /** An answer as the client received it. */
  record Response(int status, Map<String, String> headers, byte[] body) {
    String text() {
      return new String(body, ISO_8859_1);
    }
  }

  /** A client of the balancer's plain HTTP listener, one connection. */
  static final class Client implements AutoCloseable {
    final Socket socket;
    final InputStream in;
    final OutputStream out;

    Client(int port) throws IOException {
      socket = new Socket(InetAddress.getLoopbackAddress(), port);
      // A balancer that never answers fails the test here rather than at its timeout.
      socket.setSoTimeout(10_000);
      in = new BufferedInputStream(socket.getInputStream());
      out = socket.getOutputStream();
    }

    void send(String text) throws IOException {
      send(text.getBytes(ISO_8859_1));
    }

    void send(byte[] bytes) throws IOException {
      out.write(bytes);
      out.flush();
    }

    Response get(String uri) throws IOException {
      send("GET " + uri + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
      return read(false);
    }

    /** The next answer; {@code head}: it answers a HEAD, so has no body whatever it says. */
    Response read(boolean head) throws IOException {
      List<String> lines = readHead(in);
      if (lines == null) {
        throw new EOFException("the balancer closed the connection without an answer");
      }
      int status = Integer.parseInt(lines.get(0).substring(9, 12));
      Map<String, String> fields = fields(lines);
      byte[] body;
      if (head || status < 200 || status == 204 || status == 304) {
        body = new byte[0];
      } else if (fields.containsKey("transfer-encoding") || fields.containsKey("content-length")) {
        body = readBody(in, fields);
      } else {
        body = in.readAllBytes();
      }
      return new Response(status, fields, body);
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** One connection a {@link RawBackend} accepted. */
  static final class Conn {
    final int id;
    final Socket socket;
    final InputStream in;
    final OutputStream out;

    /** Completes when the connection ended: the balancer closed (or reset) it, or the test did. */
    final CompletableFuture<Void> eof = new CompletableFuture<>();

    /** For a connection whose script stopped reading: read on, dropping the bytes, to the end. */
    final CompletableFuture<Void> drain = new CompletableFuture<>();

    final AtomicLong drained = new AtomicLong();

    Conn(int id, Socket socket) throws IOException {
      this.id = id;
      this.socket = socket;
      this.in = new BufferedInputStream(socket.getInputStream());
      this.out = socket.getOutputStream();
    }

    void write(String text) throws IOException {
      out.write(text.getBytes(ISO_8859_1));
      out.flush();
    }
  }

  /**
   * A backend on a raw server socket on 127.0.0.1: it reads each request (with its body, when
   * {@code readBodies}), records it, and lets the test's script write the answer's bytes. Probes
   * ({@code .../ready}) are answered {@code 200} with {@code Connection: close}.
   */
  static final class RawBackend implements AutoCloseable {

    /** Answers one request; returns whether to read the connection's next request. */
    @FunctionalInterface
    interface Script {
      boolean answer(Conn conn, Request request) throws IOException;
    }

    final List<Conn> connections = new CopyOnWriteArrayList<>();
    final List<Request> requests = new CopyOnWriteArrayList<>();
    private final ServerSocket server;
    private final boolean readBodies;
    private final Script script;

    RawBackend(boolean readBodies, Script script) {
      this.readBodies = readBodies;
      this.script = script;
      try {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      Thread acceptor = new Thread(this::accept, "raw-backend-" + server.getLocalPort());
      acceptor.setDaemon(true);
      acceptor.start();
    }

    /** {@code 200}, the request's URI as its body, keep-alive. */
    static boolean ok(Conn conn, Request request) throws IOException {
      String body = "ok " + request.uri();
      conn.write(
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
              + body.length()
              + "\r\n\r\n"
              + body);
      return true;
    }

    int port() {
      return server.getLocalPort();
    }

    Conn connection(int id) {
      return connections.stream().filter(c -> c.id == id).findFirst().orElseThrow();
    }

    /** The requests whose URI starts with {@code prefix}, probes left out, in arrival order. */
    List<Request> requests(String prefix) {
      return requests.stream()
          .filter(r -> r.uri().startsWith(prefix) && !r.uri().endsWith("/ready"))
          .toList();
    }

    /** The one request to {@code uri}. */
    Request request(String uri) {
      List<Request> matching = requests.stream().filter(r -> r.uri().equals(uri)).toList();
      assertThat(matching).as("requests to %s", uri).hasSize(1);
      return matching.get(0);
    }

    private void accept() {
      while (!server.isClosed()) {
        Socket socket;
        Conn conn;
        try {
          socket = server.accept();
          conn = new Conn(connections.size(), socket);
        } catch (IOException e) {
          return;
        }
        connections.add(conn);
        Thread reader = new Thread(() -> serve(conn), "raw-backend-connection-" + conn.id);
        reader.setDaemon(true);
        reader.start();
      }
    }

    private void serve(Conn conn) {
      try {
        while (true) {
          List<String> head = readHead(conn.in);
          if (head == null) {
            return;
          }
          String[] start = head.get(0).split(" ");
          Map<String, String> fields = fields(head);
          byte[] body = readBodies ? readBody(conn.in, fields) : new byte[0];
          Request request = new Request(conn.id, start[0], start[1], fields, body);
          requests.add(request);
          boolean goOn;
          if (request.uri().endsWith("/ready")) {
            conn.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nready");
            goOn = true;
          } else {
            goOn = script.answer(conn, request);
          }
          if (conn.socket.isClosed()) {
            return;
          }
          if (!goOn) {
            conn.drain.join();
            byte[] buf = new byte[65536];
            for (int n; (n = conn.in.read(buf)) >= 0; ) {
              conn.drained.addAndGet(n);
            }
            return;
          }
        }
      } catch (IOException e) {
        // reset by the balancer, or closed by the test
      } finally {
        conn.eof.complete(null);
        try {
          conn.socket.close();
        } catch (IOException e) {
          // closing anyway
        }
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
      for (Conn conn : connections) {
        conn.drain.complete(null);
        conn.socket.close();
      }
    }
  }
}
