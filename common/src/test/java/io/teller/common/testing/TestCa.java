package io.teller.common.testing;

import io.teller.common.cluster.ClusterTls;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away certificate authority for cluster members, made at test time: each member gets a
 * certificate for both ends of a connection (server and client), written with its key and the CA's
 * certificate as the three PEM files that {@code cluster.tls.*} name.
 *
 * <pre>{@code
 * TestCa ca = TestCa.create(tempDir.resolve("ca"));
 * TellerCluster node = clusters.start(clusters.options(ClusterRole.DATA).withTls(ca.member("reg")));
 * }</pre>
 */
public final class TestCa {

  private static final Duration VALIDITY = Duration.ofDays(2);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Path dir;
  private final KeyPair keys;
  private final X509Certificate certificate;
  private final Path certPath;
  private final AtomicInteger issued = new AtomicInteger();

  private TestCa(Path dir, KeyPair keys, X509Certificate certificate, Path certPath) {
    this.dir = dir;
    this.keys = keys;
    this.certificate = certificate;
    this.certPath = certPath;
  }

  /** A new CA (EC P-256) whose certificate is written into {@code dir}. */
  public static TestCa create(Path dir) {
    KeyPair keys = keyPair();
    X500Name name = new X500Name("CN=Teller Test Cluster CA " + RANDOM.nextInt(1_000_000));
    Instant now = Instant.now();
    try {
      Files.createDirectories(dir);
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              name,
              serial(),
              Date.from(now.minus(Duration.ofMinutes(5))),
              Date.from(now.plus(VALIDITY)),
              name,
              keys.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      builder.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      X509Certificate certificate = sign(builder, keys);
      Path path = dir.resolve("ca-cert.pem");
      Files.writeString(path, pem("CERTIFICATE", certificate.getEncoded()));
      return new TestCa(dir, keys, certificate, path);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot create the test CA", e);
    }
  }

  /** The CA's certificate file. */
  public Path certPath() {
    return certPath;
  }

  /**
   * A member's certificate and key signed by this CA, for {@code 127.0.0.1} and {@code name},
   * usable by both ends of a connection; returned as the member's {@code cluster.tls.*}.
   */
  public ClusterTls member(String name) {
    KeyPair leaf = keyPair();
    Instant now = Instant.now();
    try {
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              certificate,
              serial(),
              Date.from(now.minus(Duration.ofMinutes(5))),
              Date.from(now.plus(VALIDITY)),
              new X500Name("CN=" + name),
              leaf.getPublic());
      builder.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(
              new GeneralName[] {
                new GeneralName(GeneralName.dNSName, name),
                new GeneralName(GeneralName.iPAddress, "127.0.0.1")
              }));
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      builder.addExtension(
          Extension.extendedKeyUsage,
          false,
          new ExtendedKeyUsage(
              new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      X509Certificate cert = sign(builder, keys);
      String base = name.replaceAll("[^A-Za-z0-9.-]", "_") + "-" + issued.incrementAndGet();
      Path certFile = dir.resolve(base + "-cert.pem");
      Path keyFile = dir.resolve(base + "-key.pem");
      Files.writeString(certFile, pem("CERTIFICATE", cert.getEncoded()));
      Files.writeString(keyFile, pem("PRIVATE KEY", leaf.getPrivate().getEncoded()));
      return new ClusterTls(certFile, keyFile, certPath);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot issue a member certificate", e);
    }
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair ca)
      throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(
              builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(ca.getPrivate())));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  private static KeyPair keyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static BigInteger serial() {
    return new BigInteger(159, RANDOM);
  }

  /** DER as PEM; a private key's encoding is PKCS#8, hence "PRIVATE KEY". */
  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }
}
