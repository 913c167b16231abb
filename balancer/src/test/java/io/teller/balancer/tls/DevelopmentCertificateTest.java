package io.teller.balancer.tls;

import static io.teller.balancer.tls.TlsTesting.HOST;
import static io.teller.balancer.tls.TlsTesting.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.junit5.VertxExtension;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The self-signed certificate the balancer makes for itself when none is configured. */
@ExtendWith(VertxExtension.class)
class DevelopmentCertificateTest {

  @TempDir Path dataDir;

  @Test
  void isGeneratedOnceAndReusedAfterwards() throws Exception {
    DevelopmentCertificate created = DevelopmentCertificate.ensure(dataDir);
    assertThat(created.generated()).isTrue();
    assertThat(created.certPath()).isEqualTo(dataDir.resolve("tls/localhost-cert.pem"));
    assertThat(created.keyPath()).isEqualTo(dataDir.resolve("tls/localhost-key.pem"));
    byte[] cert = Files.readAllBytes(created.certPath());
    byte[] key = Files.readAllBytes(created.keyPath());

    DevelopmentCertificate reused = DevelopmentCertificate.ensure(dataDir);
    assertThat(reused.generated()).isFalse();
    assertThat(reused.pair()).isEqualTo(created.pair());
    assertThat(Files.readAllBytes(reused.certPath())).isEqualTo(cert);
    assertThat(Files.readAllBytes(reused.keyPath())).isEqualTo(key);
    // Nothing but the two files is left behind (no temporary files).
    try (var files = Files.list(dataDir.resolve("tls"))) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("localhost-cert.pem", "localhost-key.pem");
    }
  }

  @Test
  void keyIsReadableByItsOwnerOnly() throws Exception {
    assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
    DevelopmentCertificate created = DevelopmentCertificate.ensure(dataDir);

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(created.keyPath())))
        .isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir.resolve("tls"))))
        .isEqualTo("rwx------");
    assertThat(Files.readString(created.keyPath())).startsWith("-----BEGIN PRIVATE KEY-----\n");
  }

  @Test
  void isForLocalhostForAYear() throws Exception {
    DevelopmentCertificate created = DevelopmentCertificate.ensure(dataDir);
    List<X509Certificate> chain = Pem.certificates(Files.readAllBytes(created.certPath()));
    X509Certificate certificate = chain.get(0);

    assertThat(chain).hasSize(1);
    assertThat(certificate.getSubjectAlternativeNames())
        .containsExactlyInAnyOrder(
            List.of(2, "localhost"), List.of(7, "127.0.0.1"), List.of(7, "0:0:0:0:0:0:0:1"));
    assertThat(certificate.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
    assertThat(certificate.getBasicConstraints()).isEqualTo(-1);
    Duration validity =
        Duration.between(
            certificate.getNotBefore().toInstant(), certificate.getNotAfter().toInstant());
    assertThat(validity).isBetween(Duration.ofDays(365), Duration.ofDays(366));
    assertThat(certificate.getNotAfter().toInstant())
        .isAfter(Instant.now().plus(Duration.ofDays(364)));
    certificate.verify(certificate.getPublicKey()); // self-signed
    assertThat(
            Pem.checkPair(
                Files.readAllBytes(created.certPath()), Files.readAllBytes(created.keyPath())))
        .isEqualTo(certificate);
  }

  @Test
  void isRegeneratedWhenExpired() throws Exception {
    Clock longAgo = Clock.fixed(Instant.now().minus(Duration.ofDays(400)), ZoneOffset.UTC);
    byte[] old = Files.readAllBytes(DevelopmentCertificate.ensure(dataDir, longAgo).certPath());

    DevelopmentCertificate renewed = DevelopmentCertificate.ensure(dataDir);
    assertThat(renewed.generated()).isTrue();
    assertThat(Files.readAllBytes(renewed.certPath())).isNotEqualTo(old);
    assertThat(Pem.certificates(Files.readAllBytes(renewed.certPath())).get(0).getNotAfter())
        .isAfter(Instant.now());
  }

  @Test
  void isRegeneratedWhenDamagedOrMismatched() throws Exception {
    DevelopmentCertificate created = DevelopmentCertificate.ensure(dataDir);
    Files.writeString(created.certPath(), "-----BEGIN CERTIFICATE-----\nMIIB");
    assertThat(DevelopmentCertificate.ensure(dataDir).generated()).isTrue();

    // A key from another generation: what a crash between the two writes would leave.
    Path elsewhere = Files.createDirectory(dataDir.resolve("elsewhere"));
    byte[] otherKey = Files.readAllBytes(DevelopmentCertificate.ensure(elsewhere).keyPath());
    Files.write(created.keyPath(), otherKey);
    assertThat(DevelopmentCertificate.ensure(dataDir).generated()).isTrue();
    assertThat(DevelopmentCertificate.ensure(dataDir).generated()).isFalse();
  }

  @Test
  void refusesToBlockAnEventLoopAndRunsThroughExecuteBlocking(Vertx vertx) {
    Promise<Throwable> onEventLoop = Promise.promise();
    vertx.runOnContext(
        v -> {
          try {
            DevelopmentCertificate.ensure(dataDir);
            onEventLoop.complete(null);
          } catch (IllegalStateException e) {
            onEventLoop.complete(e);
          }
        });
    assertThat(await(onEventLoop.future()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("executeBlocking");

    DevelopmentCertificate created =
        await(vertx.executeBlocking(() -> DevelopmentCertificate.ensure(dataDir)));
    assertThat(created.generated()).isTrue();
  }

  @Test
  void servesHttpsToClientsThatTrustIt(Vertx vertx) {
    DevelopmentCertificate created =
        await(vertx.executeBlocking(() -> DevelopmentCertificate.ensure(dataDir)));
    int port = TlsTesting.startServer(vertx, TlsOptions.of(created.pair())).actualPort();

    // Held in a variable: Vert.x closes a client that has become garbage, even mid-request.
    var client =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setSsl(true)
                .setVerifyHost(true)
                .setUseAlpn(true)
                .setProtocolVersion(HttpVersion.HTTP_2)
                .setTrustOptions(new PemTrustOptions().addCertPath(created.certPath().toString())));
    String version =
        await(
            client
                .request(HttpMethod.GET, port, HOST, "/")
                .compose(request -> request.send())
                .compose(response -> response.body().map(Object::toString)));
    assertThat(version).isEqualTo("HTTP_2");
    await(client.close());
  }
}
