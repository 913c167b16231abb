package io.teller.balancer.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.balancer.resilience.Failure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the L4 path takes from Netty below Vert.x ({@link NettyChannel}), on real sockets: the
 * server name of real ClientHellos (made by the JDK's TLS engine) read by Netty's ClientHello
 * handling, the hello's bytes left in the socket; and half-close, a FIN read as an in-band end
 * after every byte, with the socket still open for writing.
 */
@Timeout(60)
class NettyChannelTest {

  Vertx vertx;
  NetServer server;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** A server on a free port that hands each accepted socket to {@code accepted}; its port. */
  int listen(Consumer<NetSocket> accepted) throws Exception {
    server =
        vertx
            .createNetServer()
            .connectHandler(accepted::accept)
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    return server.actualPort();
  }

  /** The first bytes a JDK TLS client sends, naming {@code serverName} (or none when null). */
  static byte[] clientHello(String serverName, String... protocols) throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, null, null);
    SSLEngine engine = context.createSSLEngine();
    engine.setUseClientMode(true);
    SSLParameters parameters = engine.getSSLParameters();
    parameters.setServerNames(
        serverName == null ? List.of() : List.of(new SNIHostName(serverName)));
    if (protocols.length > 0) {
      parameters.setProtocols(protocols);
    }
    engine.setSSLParameters(parameters);
    ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    engine.wrap(ByteBuffer.allocate(0), out);
    out.flip();
    byte[] bytes = new byte[out.remaining()];
    out.get(bytes);
    return bytes;
  }

  /** What the server read from a connection: the name (or failure), then the bytes left. */
  record Read(CompletableFuture<String> name, CompletableFuture<Buffer> rest) {}

  /** A server reading the server name, then {@code restBytes} more bytes from the socket. */
  Read serverNames(int restBytes, long timeoutMillis, int[] port) throws Exception {
    CompletableFuture<String> name = new CompletableFuture<>();
    CompletableFuture<Buffer> rest = new CompletableFuture<>();
    port[0] =
        listen(
            socket -> {
              socket.pause();
              Future<String> read =
                  NettyChannel.serverName(socket, TcpConnection.MAX_HELLO_BYTES, timeoutMillis);
              read.onComplete(
                  done -> {
                    if (done.failed()) {
                      name.completeExceptionally(done.cause());
                      return;
                    }
                    name.complete(String.valueOf(done.result()));
                    Buffer got = Buffer.buffer();
                    socket.handler(
                        bytes -> {
                          got.appendBuffer(bytes);
                          if (got.length() >= restBytes) {
                            rest.complete(got);
                          }
                        });
                    socket.resume();
                  });
            });
    return new Read(name, rest);
  }

  static Failure failureOf(CompletableFuture<String> name) throws Exception {
    try {
      name.get(10, TimeUnit.SECONDS);
      throw new AssertionError("no failure");
    } catch (ExecutionException e) {
      return (Failure) e.getCause();
    }
  }

  @Test
  void readsTheServerNameAndLeavesTheHelloAndWhatFollowsInTheSocket() throws Exception {
    int[] port = new int[1];
    byte[] hello = clientHello("Shop.Example.COM");
    Read read = serverNames(hello.length + 4, 5_000, port);
    try (Socket socket = new Socket("127.0.0.1", port[0])) {
      socket.getOutputStream().write(hello);
      socket.getOutputStream().write("more".getBytes(StandardCharsets.US_ASCII));
      assertThat(read.name().get(10, TimeUnit.SECONDS)).isEqualTo("shop.example.com");
      Buffer rest = read.rest().get(10, TimeUnit.SECONDS);
      assertThat(rest.getBytes(0, hello.length)).isEqualTo(hello);
      assertThat(rest.getString(hello.length, rest.length())).isEqualTo("more");
    }
  }

  @Test
  void readsATls12HelloAndOneWithoutAName() throws Exception {
    int[] port = new int[1];
    Read tls12 = serverNames(1, 5_000, port);
    try (Socket socket = new Socket("127.0.0.1", port[0])) {
      socket.getOutputStream().write(clientHello("a.test", "TLSv1.2"));
      assertThat(tls12.name().get(10, TimeUnit.SECONDS)).isEqualTo("a.test");
    }
    Read nameless = serverNames(1, 5_000, port);
    try (Socket socket = new Socket("127.0.0.1", port[0])) {
      socket.getOutputStream().write(clientHello(null));
      assertThat(nameless.name().get(10, TimeUnit.SECONDS)).isEqualTo("null");
    }
  }

  @Test
  void aHelloSplitOverTwoRecordsAndTwoWritesIsReassembled() throws Exception {
    byte[] hello = clientHello("split.test");
    int payload = hello.length - 5;
    int first = payload / 2;
    Buffer split =
        Buffer.buffer()
            .appendBytes(new byte[] {22, 3, 1})
            .appendUnsignedShort(first)
            .appendBytes(hello, 5, first)
            .appendBytes(new byte[] {22, 3, 1})
            .appendUnsignedShort(payload - first)
            .appendBytes(hello, 5 + first, payload - first);
    int[] port = new int[1];
    Read read = serverNames(split.length(), 5_000, port);
    try (Socket socket = new Socket("127.0.0.1", port[0])) {
      OutputStream out = socket.getOutputStream();
      out.write(split.getBytes(0, 5 + first + 3));
      out.flush();
      assertThat(read.name()).isNotDone();
      out.write(split.getBytes(5 + first + 3, split.length()));
      assertThat(read.name().get(10, TimeUnit.SECONDS)).isEqualTo("split.test");
      assertThat(read.rest().get(10, TimeUnit.SECONDS).getBytes()).isEqualTo(split.getBytes());
    }
  }

  @Test
  void plainTextAnOversizedHelloAndSilenceAreBadHellos() throws Exception {
    int[] port = new int[1];
    Read plain = serverNames(1, 5_000, port);
    try (Socket socket = new Socket("127.0.0.1", port[0])) {
      socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: a\r\n\r\n".getBytes());
      Failure failure = failureOf(plain.name());
      assertThat(failure.kind()).isEqualTo(Failure.Kind.BAD_HELLO);
      assertThat(failure.fault()).isEqualTo(Failure.Fault.CLIENT);
      assertThat(failure.reason()).isEqualTo("not a TLS ClientHello");
    }
    Read huge = serverNames(1, 5_000, port);
    try (Socket socket = new Socket("127.0.0.1", port[0])) {
      // A handshake record whose ClientHello claims more than 16 KiB.
      socket
          .getOutputStream()
          .write(
              Buffer.buffer()
                  .appendBytes(new byte[] {22, 3, 1})
                  .appendUnsignedShort(4)
                  .appendByte((byte) 1)
                  .appendMedium(20_000)
                  .getBytes());
      assertThat(failureOf(huge.name()).reason()).isEqualTo("ClientHello over 16384 bytes");
      // Netty closes the connection.
      socket.setSoTimeout(5_000);
      assertThat(socket.getInputStream().read()).isEqualTo(-1);
    }
    Read silent = serverNames(1, 300, port);
    try (Socket socket = new Socket("127.0.0.1", port[0])) {
      socket.setSoTimeout(5_000);
      long started = System.nanoTime();
      assertThat(failureOf(silent.name()).reason()).isEqualTo("no TLS ClientHello within 300 ms");
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isGreaterThan(250);
      assertThat(socket.getInputStream().read()).isEqualTo(-1);
    }
  }

  @Test
  void aFinIsReadAfterEveryByteAndTheSocketStillWrites() throws Exception {
    // The server reads until the client's FIN, then answers what it read, then sends its own FIN.
    int size = 1024 * 1024;
    int port =
        listen(
            socket -> {
              NettyChannel.allowHalfClosure(socket);
              Buffer got = Buffer.buffer();
              socket.handler(
                  bytes -> {
                    if (NettyChannel.isEndOfInput(bytes)) {
                      socket.write(got).compose(v -> NettyChannel.shutdownOutput(socket));
                    } else {
                      got.appendBuffer(bytes);
                    }
                  });
            });
    byte[] sent = new byte[size];
    new java.util.Random(7).nextBytes(sent);
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(sent);
      socket.shutdownOutput();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream back = new ByteArrayOutputStream();
      in.transferTo(back);
      assertThat(back.size()).isEqualTo(size);
      assertThat(back.toByteArray()).isEqualTo(sent);
    }
  }
}
