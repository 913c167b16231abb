package io.teller.balancer.tls;

import static io.teller.balancer.tls.TlsTesting.HOST;
import static io.teller.balancer.tls.TlsTesting.await;
import static io.teller.balancer.tls.TlsTesting.handshake;
import static io.teller.balancer.tls.TlsTesting.presented;
import static io.teller.balancer.tls.TlsTesting.rawHello;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.teller.balancer.testing.TestCertificates;
import io.teller.balancer.testing.TestCertificates.Issued;
import io.teller.balancer.testing.TestCertificates.KeyType;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The HTTPS listener's TLS settings against real handshakes, with each engine: protocol versions,
 * ALPN, cipher suites and SNI.
 */
@ExtendWith(VertxExtension.class)
class TlsOptionsTest {

  @TempDir static Path dir;

  static TestCertificates ca;
  static Issued localhost;
  static Issued a;
  static Issued b;

  @BeforeAll
  static void certificates() {
    ca = TestCertificates.create(dir);
    // RSA, so that a refused RSA key exchange suite is refused for being off the list, not for
    // lack of an RSA certificate.
    localhost = ca.issue(KeyType.RSA, "localhost", HOST);
    a = ca.issue(KeyType.EC, "a.test");
    b = ca.issue(KeyType.EC, "b.test");
  }

  private static TlsOptions options(TlsEngine engine, Issued... pairs) {
    assumeTrue(engine.isAvailable(), engine + " is not available here");
    return TlsOptions.of(List.of(pairs).stream().map(Issued::pair).toList()).withEngine(engine);
  }

  @Test
  void configuresTheServerOptions() {
    TlsOptions tls = TlsOptions.of(localhost.pair());
    HttpServerOptions options = tls.applyTo(new HttpServerOptions());

    assertThat(options.isSsl()).isTrue();
    assertThat(options.isUseAlpn()).isTrue();
    assertThat(options.getAlpnVersions()).containsExactly(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1);
    assertThat(options.getEnabledSecureTransportProtocols())
        .containsExactlyInAnyOrder("TLSv1.2", "TLSv1.3");
    assertThat(options.getEnabledCipherSuites()).containsExactlyElementsOf(tls.cipherSuites());
    assertThat(options.getEnabledCipherSuites())
        .containsAll(TlsOptions.TLS13_CIPHER_SUITES)
        .contains(
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
        .noneMatch(suite -> suite.contains("CBC") || suite.startsWith("TLS_RSA_"));
    assertThat(options.isSni()).isFalse();
    assertThat(options.getKeyCertOptions()).isInstanceOf(PemKeyCertOptions.class);
    assertThat(options.getSslEngineOptions().getClass())
        .isEqualTo(
            tls.engine() == TlsEngine.OPENSSL
                ? OpenSSLEngineOptions.class
                : JdkSSLEngineOptions.class);
  }

  @Test
  void prefersOpenSslWhereTheNativeLibraryIsShipped() {
    // The build ships BoringSSL for linux-x86_64 only; elsewhere the JDK engine is right.
    boolean shipped =
        System.getProperty("os.name").toLowerCase().contains("linux")
            && Set.of("amd64", "x86_64").contains(System.getProperty("os.arch"));
    assumeTrue(shipped, "no native TLS library is shipped for this platform");
    assertThat(TlsEngine.best()).isEqualTo(TlsEngine.OPENSSL);
  }

  @ParameterizedTest
  @EnumSource(TlsEngine.class)
  void refusesTls11AndAcceptsTls12AndTls13(TlsEngine engine, Vertx vertx) throws Exception {
    HttpServer server = TlsTesting.startServer(vertx, options(engine, localhost));
    int port = server.actualPort();

    assertThat(rawHello(port, 0x0302))
        .as("answer to a TLS 1.1 ClientHello")
        .matches(answer -> answer.isAlert(TlsTesting.HelloAnswer.PROTOCOL_VERSION), "alert 70");
    // The same hand-made hello offering TLS 1.2 is answered: the refusal above is the version's.
    assertThat(rawHello(port, 0x0303))
        .as("answer to a TLS 1.2 ClientHello")
        .matches(TlsTesting.HelloAnswer::isServerHello, "a ServerHello");

    SSLSession tls12 = handshake(ca, port, p -> p.setProtocols(new String[] {"TLSv1.2"}));
    assertThat(tls12.getProtocol()).isEqualTo("TLSv1.2");
    SSLSession tls13 = handshake(ca, port, p -> p.setProtocols(new String[] {"TLSv1.3"}));
    assertThat(tls13.getProtocol()).isEqualTo("TLSv1.3");
    assertThat(tls13.getCipherSuite()).isIn(TlsOptions.TLS13_CIPHER_SUITES);
  }

  @ParameterizedTest
  @EnumSource(TlsEngine.class)
  void refusesTls12SuitesOffTheList(TlsEngine engine, Vertx vertx) throws Exception {
    TlsOptions tls = options(engine, localhost);
    int port = TlsTesting.startServer(vertx, tls).actualPort();

    for (String outside :
        List.of("TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256")) {
      assertThatThrownBy(
              () ->
                  handshake(
                      ca,
                      port,
                      p -> {
                        p.setProtocols(new String[] {"TLSv1.2"});
                        p.setCipherSuites(new String[] {outside});
                      }))
          .as(outside)
          .isInstanceOf(SSLHandshakeException.class)
          // Received from the server: the client did offer the suite.
          .hasMessageContaining("Received fatal alert");
    }
    // Every listed suite that an RSA certificate can serve works, by its IANA name.
    List<String> rsaSuites =
        tls.cipherSuites().stream()
            .filter(s -> s.startsWith("TLS_ECDHE_RSA_") || s.startsWith("TLS_DHE_RSA_"))
            .toList();
    assertThat(rsaSuites).isNotEmpty();
    for (String listed : rsaSuites) {
      SSLSession session =
          handshake(
              ca,
              port,
              p -> {
                p.setProtocols(new String[] {"TLSv1.2"});
                p.setCipherSuites(new String[] {listed});
              });
      assertThat(session.getCipherSuite()).isEqualTo(listed);
    }
  }

  @ParameterizedTest
  @EnumSource(TlsEngine.class)
  void offersHttp2ThroughAlpnAndStillServesHttp11(TlsEngine engine, Vertx vertx) {
    int port = TlsTesting.startServer(vertx, options(engine, localhost)).actualPort();
    HttpClientOptions base =
        new HttpClientOptions().setSsl(true).setTrustOptions(ca.trustOptions());
    HttpClientAgent h2 =
        vertx.createHttpClient(
            new HttpClientOptions(base).setUseAlpn(true).setProtocolVersion(HttpVersion.HTTP_2));
    HttpClientAgent h1 =
        vertx.createHttpClient(
            new HttpClientOptions(base).setUseAlpn(false).setProtocolVersion(HttpVersion.HTTP_1_1));

    assertThat(get(h2, port)).isEqualTo("HTTP_2 HTTP_2");
    assertThat(get(h1, port)).isEqualTo("HTTP_1_1 HTTP_1_1");
  }

  /** "client-side version server-side version" of a GET. */
  private static String get(HttpClientAgent client, int port) {
    return await(
        client
            .request(HttpMethod.GET, port, HOST, "/")
            .compose(request -> request.send())
            .compose(
                response -> response.body().map(body -> response.version().name() + " " + body)));
  }

  @ParameterizedTest
  @EnumSource(TlsEngine.class)
  void choosesTheCertificateByServerNameWithTheFirstAsDefault(TlsEngine engine, Vertx vertx)
      throws Exception {
    int port = TlsTesting.startServer(vertx, options(engine, a, b)).actualPort();

    assertThat(presented(ca, port, "b.test").getSerialNumber()).isEqualTo(b.serial());
    assertThat(presented(ca, port, "a.test").getSerialNumber()).isEqualTo(a.serial());
    assertThat(presented(ca, port, null).getSerialNumber()).isEqualTo(a.serial());
    assertThat(presented(ca, port, "other.test").getSerialNumber()).isEqualTo(a.serial());

    // The default is the first by position, whatever the order and the key types (a JDK key
    // manager over all pairs would pick by key type: EC before RSA).
    int reversed = TlsTesting.startServer(vertx, options(engine, b, a)).actualPort();
    assertThat(presented(ca, reversed, null).getSerialNumber()).isEqualTo(b.serial());
    assertThat(presented(ca, reversed, "a.test").getSerialNumber()).isEqualTo(a.serial());
    int mixed = TlsTesting.startServer(vertx, options(engine, localhost, a)).actualPort();
    assertThat(presented(ca, mixed, null).getSerialNumber()).isEqualTo(localhost.serial());
    assertThat(presented(ca, mixed, "a.test").getSerialNumber()).isEqualTo(a.serial());
  }
}
