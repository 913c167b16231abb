package io.teller.balancer.tls;

import io.teller.balancer.testing.TestCertificates;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

/** Real TLS clients and servers for the tests of this package; blocking, for the test thread. */
final class TlsTesting {

  static final String HOST = "127.0.0.1";
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  private TlsTesting() {}

  /** An HTTPS server on 127.0.0.1, a free port, answering with the request's HTTP version. */
  static HttpServer startServer(Vertx vertx, TlsOptions tls) {
    HttpServerOptions options = tls.applyTo(new HttpServerOptions().setHost(HOST).setPort(0));
    return await(
        vertx
            .createHttpServer(options)
            .requestHandler(request -> request.response().end(request.version().name()))
            .listen());
  }

  static <T> T await(Future<T> future) {
    try {
      return future.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("no result within " + TIMEOUT, e);
    }
  }

  /** Polls {@code condition} until it holds or the deadline passes. */
  static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
    Instant deadline = Instant.now().plus(TIMEOUT);
    while (!condition.getAsBoolean()) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("not within " + TIMEOUT + ": " + what);
      }
      Thread.sleep(20);
    }
  }

  /**
   * A complete JDK handshake with the server, trusting {@code ca}; {@code parameters} narrows what
   * the client offers (protocols, suites, server name). Returns the negotiated session. Each call
   * has a new client context: a shared one would resume earlier sessions, which skips the
   * certificate (and carries the old one across an SNI change or a reload).
   *
   * @throws IOException when the handshake fails
   */
  static SSLSession handshake(TestCertificates ca, int port, Consumer<SSLParameters> parameters)
      throws IOException {
    SSLContext context = ca.clientContext();
    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket()) {
      socket.setSoTimeout((int) TIMEOUT.toMillis());
      socket.connect(new InetSocketAddress(HOST, port), (int) TIMEOUT.toMillis());
      SSLParameters p = socket.getSSLParameters();
      parameters.accept(p);
      socket.setSSLParameters(p);
      socket.startHandshake();
      return socket.getSession();
    }
  }

  /** The leaf certificate the server presents to a client naming {@code serverName} (or none). */
  static X509Certificate presented(TestCertificates ca, int port, String serverName)
      throws IOException {
    SSLSession session =
        handshake(
            ca,
            port,
            p -> {
              if (serverName != null) {
                p.setServerNames(List.of(new SNIHostName(serverName)));
              }
            });
    return (X509Certificate) session.getPeerCertificates()[0];
  }

  /** What the server answered to a hand-made ClientHello. */
  record HelloAnswer(int recordType, int detail) {
    static final int HANDSHAKE = 22;
    static final int ALERT = 21;
    static final int SERVER_HELLO = 2;
    static final int PROTOCOL_VERSION = 70;

    boolean isServerHello() {
      return recordType == HANDSHAKE && detail == SERVER_HELLO;
    }

    boolean isAlert(int description) {
      return recordType == ALERT && detail == description;
    }
  }

  /**
   * Sends a ClientHello whose highest version is {@code version} (0x0302 TLS 1.1, 0x0303 TLS 1.2)
   * and reads the first record of the answer: a ServerHello, or an alert and its description.
   * Hand-made because the JDK's own client refuses to even offer TLS 1.1 (its {@code
   * jdk.tls.disabledAlgorithms}), so an SSLSocket failing proves nothing about the server.
   */
  static HelloAnswer rawHello(int port, int version) throws IOException {
    try (Socket socket = new Socket()) {
      socket.setSoTimeout((int) TIMEOUT.toMillis());
      socket.connect(new InetSocketAddress(HOST, port), (int) TIMEOUT.toMillis());
      OutputStream out = socket.getOutputStream();
      out.write(clientHello(version));
      out.flush();
      DataInputStream in = new DataInputStream(socket.getInputStream());
      int type = in.readUnsignedByte();
      in.readUnsignedShort(); // record version
      in.readUnsignedShort(); // record length
      int first = in.readUnsignedByte(); // alert level, or handshake message type
      return new HelloAnswer(type, type == HelloAnswer.ALERT ? in.readUnsignedByte() : first);
    }
  }

  private static byte[] clientHello(int version) {
    int[] suites = {
      0xC02F,
      0xC02B, // ECDHE-RSA/ECDSA-AES128-GCM-SHA256 (TLS 1.2 only)
      0xC013,
      0xC009, // ECDHE-RSA/ECDSA-AES128-SHA (what a TLS 1.1 client would use)
      0x002F, // RSA-AES128-SHA
      0x00FF // renegotiation info SCSV
    };
    ByteBuffer extensions = ByteBuffer.allocate(64);
    extensions
        .putShort((short) 0x000a)
        .putShort((short) 6)
        .putShort((short) 4) // groups:
        .putShort((short) 0x001d)
        .putShort((short) 0x0017); // x25519, secp256r1
    extensions.putShort((short) 0x000b).putShort((short) 2).put((byte) 1).put((byte) 0);
    extensions
        .putShort((short) 0x000d)
        .putShort((short) 8)
        .putShort((short) 6) // sig algs:
        .putShort((short) 0x0804)
        .putShort((short) 0x0401)
        .putShort((short) 0x0403);
    extensions.flip();

    ByteBuffer body = ByteBuffer.allocate(256);
    body.putShort((short) version);
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    body.put(random);
    body.put((byte) 0); // no session id
    body.putShort((short) (suites.length * 2));
    for (int suite : suites) {
      body.putShort((short) suite);
    }
    body.put((byte) 1).put((byte) 0); // null compression only
    body.putShort((short) extensions.remaining()).put(extensions);
    body.flip();

    ByteBuffer record = ByteBuffer.allocate(9 + body.remaining());
    record.put((byte) 22).putShort((short) 0x0301).putShort((short) (4 + body.remaining()));
    record
        .put((byte) 1) // ClientHello
        .put((byte) 0)
        .putShort((short) body.remaining()) // 24-bit length
        .put(body);
    return record.array();
  }
}
