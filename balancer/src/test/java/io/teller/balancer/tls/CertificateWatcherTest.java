package io.teller.balancer.tls;

import static io.teller.balancer.tls.TlsTesting.HOST;
import static io.teller.balancer.tls.TlsTesting.await;
import static io.teller.balancer.tls.TlsTesting.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.teller.balancer.testing.TestCertificates;
import io.teller.balancer.testing.TestCertificates.Issued;
import io.teller.balancer.testing.TestCertificates.KeyType;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpVersion;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Certificate files replaced under a running HTTPS server, seen by real handshakes. */
@ExtendWith(VertxExtension.class)
class CertificateWatcherTest {

  @TempDir Path dir;

  TestCertificates ca;
  Issued first;
  TlsOptions tls;

  @BeforeEach
  void certificates() {
    ca = TestCertificates.create(dir);
    first = ca.issue(KeyType.EC, "localhost", HOST);
    tls = TlsOptions.of(first.pair());
  }

  @Test
  void newHandshakesGetTheNewCertificateWhileOpenConnectionsCarryOn(Vertx vertx) throws Exception {
    HttpServer server = TlsTesting.startServer(vertx, tls);
    int port = server.actualPort();
    CertificateWatcher watcher = await(CertificateWatcher.start(vertx, server, tls));
    // One pooled keep-alive connection: the second request below reuses the first one's.
    // Held in a variable to the end: Vert.x closes a client that has become garbage.
    HttpClientAgent keepAliveClient =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setSsl(true)
                .setTrustOptions(ca.trustOptions())
                .setProtocolVersion(HttpVersion.HTTP_1_1)
                .setKeepAlive(true),
            new io.vertx.core.http.PoolOptions().setHttp1MaxSize(1));
    HttpConnection connection = pooledConnection(keepAliveClient, port);
    AtomicBoolean closed = new AtomicBoolean();
    connection.closeHandler(v -> closed.set(true));
    assertThat(serial(connection)).isEqualTo(first.serial());

    Issued second = ca.issueTo(first.pair(), KeyType.EC, "localhost", HOST);
    assertThat(second.serial()).isNotEqualTo(first.serial());

    eventually(
        "a new handshake presents the new certificate",
        () -> presentedSerial(port).equals(second.serial()));
    assertThat(watcher.reloads()).isEqualTo(1);
    assertThat(watcher.failures()).isZero();
    // The keep-alive connection from before the reload still serves, on its own handshake.
    HttpConnection again = pooledConnection(keepAliveClient, port);
    assertThat(again).isSameAs(connection);
    assertThat(serial(again)).isEqualTo(first.serial());
    assertThat(closed).isFalse();
    watcher.stop();
    await(keepAliveClient.close());
  }

  @Test
  void keepsTheCurrentCertificateWhileTheNewFilesDoNotLoad(Vertx vertx) throws Exception {
    HttpServer server = TlsTesting.startServer(vertx, tls);
    int port = server.actualPort();
    CertificateWatcher watcher =
        await(CertificateWatcher.start(vertx, server, tls, Duration.ofMillis(50)));
    Issued next = ca.issue(KeyType.EC, "localhost", HOST);

    // Each step below is one atomic write, so that the watcher sees exactly these states.
    // Half a certificate, as a copy in progress leaves it.
    byte[] certificate = Files.readAllBytes(next.certPath());
    Pem.writeAtomically(
        first.certPath(), Arrays.copyOf(certificate, certificate.length / 2), false);
    eventually("the half-written certificate is rejected", () -> watcher.failures() == 1);
    assertThat(presentedSerial(port)).isEqualTo(first.serial());

    // The whole new certificate, but the key not yet replaced: they do not match.
    Pem.writeAtomically(first.certPath(), certificate, false);
    eventually("the certificate without its key is rejected", () -> watcher.failures() == 2);
    assertThat(presentedSerial(port)).isEqualTo(first.serial());

    // The key arrives: now the pair loads.
    Pem.writeAtomically(first.keyPath(), Files.readAllBytes(next.keyPath()), true);
    eventually("the complete pair is loaded", () -> watcher.reloads() == 1);
    assertThat(presentedSerial(port)).isEqualTo(next.serial());
    assertThat(watcher.failures()).isEqualTo(2);
    watcher.stop();
  }

  @Test
  void reloadsEveryPairOfAnSniListener(Vertx vertx) throws Exception {
    Issued other = ca.issue(KeyType.EC, "other.test");
    TlsOptions sni = TlsOptions.of(List.of(first.pair(), other.pair()));
    HttpServer server = TlsTesting.startServer(vertx, sni);
    int port = server.actualPort();
    CertificateWatcher watcher =
        await(CertificateWatcher.start(vertx, server, sni, Duration.ofMillis(50)));

    Issued renewed = ca.issueTo(other.pair(), KeyType.EC, "other.test");
    eventually(
        "the renewed SNI certificate is served",
        () -> serialFor(port, "other.test").equals(renewed.serial()));
    assertThat(serialFor(port, null)).as("the default is untouched").isEqualTo(first.serial());
    assertThat(watcher.reloads()).isEqualTo(1);
    watcher.stop();
  }

  /** Sends a request through the client's pool and returns the connection it went over. */
  private static HttpConnection pooledConnection(HttpClientAgent client, int port) {
    return await(
        client
            .request(HttpMethod.GET, port, HOST, "/")
            .compose(
                request ->
                    request
                        .send()
                        .compose(response -> response.body())
                        .map(body -> request.connection())));
  }

  private static BigInteger serial(HttpConnection connection) throws SSLPeerUnverifiedException {
    return ((X509Certificate) connection.peerCertificates().get(0)).getSerialNumber();
  }

  private BigInteger presentedSerial(int port) {
    return serialFor(port, null);
  }

  private BigInteger serialFor(int port, String serverName) {
    try {
      return TlsTesting.presented(ca, port, serverName).getSerialNumber();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
