package io.teller.balancer.testing;

import io.teller.balancer.tls.CertificatePair;
import io.teller.balancer.tls.Pem;
import io.vertx.core.net.PemTrustOptions;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.security.auth.x500.X500Principal;
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
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away certificate authority for tests: made at test time in a temporary directory, it
 * issues leaf certificates for given names (DNS names, or IP addresses written as such) as PEM
 * files, and gives clients the trust to verify them. Nothing is fetched or checked in.
 *
 * <pre>{@code
 * TestCertificates ca = TestCertificates.create(tempDir);
 * TestCertificates.Issued leaf = ca.issue("localhost", "127.0.0.1");
 * TlsOptions tls = TlsOptions.of(leaf.pair());
 * HttpClientOptions client =
 *     new HttpClientOptions().setSsl(true).setTrustOptions(ca.trustOptions());
 * }</pre>
 */
public final class TestCertificates {

  /** The key of a leaf certificate. */
  public enum KeyType {
    /** RSA 2048: what the {@code ECDHE-RSA}, {@code DHE-RSA} and {@code RSA} suites need. */
    RSA,
    /** EC P-256: fast to make, for tests that do not care about the suite. */
    EC
  }

  /** A leaf certificate and where its files are. */
  public record Issued(CertificatePair pair, X509Certificate certificate) {

    public Path certPath() {
      return pair.certPath();
    }

    public Path keyPath() {
      return pair.keyPath();
    }

    public BigInteger serial() {
      return certificate.getSerialNumber();
    }
  }

  private static final Duration VALIDITY = Duration.ofDays(2);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Path dir;
  private final KeyPair caKeys;
  private final X509Certificate caCertificate;
  private final Path caCertPath;
  private final AtomicInteger issued = new AtomicInteger();

  private TestCertificates(Path dir, KeyPair caKeys, X509Certificate caCertificate, Path caPath) {
    this.dir = dir;
    this.caKeys = caKeys;
    this.caCertificate = caCertificate;
    this.caCertPath = caPath;
  }

  /** A new CA ("Teller Test CA", EC P-256) whose certificate is written to {@code dir}. */
  public static TestCertificates create(Path dir) {
    KeyPair keys = keyPair(KeyType.EC);
    X500Name name = new X500Name("CN=Teller Test CA " + RANDOM.nextInt(1_000_000));
    Instant now = Instant.now();
    try {
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
      builder.addExtension(
          Extension.subjectKeyIdentifier,
          false,
          new JcaX509ExtensionUtils().createSubjectKeyIdentifier(keys.getPublic()));
      X509Certificate certificate = sign(builder, keys.getPrivate());
      Path path = dir.resolve("test-ca-cert.pem");
      write(path, Pem.encodeCertificates(List.of(certificate)), false);
      return new TestCertificates(dir, keys, certificate, path);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot create the test CA", e);
    }
  }

  /** The CA's certificate file (PEM). */
  public Path caCertPath() {
    return caCertPath;
  }

  /** The CA's certificate. */
  public X509Certificate caCertificate() {
    return caCertificate;
  }

  /** Trust in this CA alone, for a Vert.x client ({@code setTrustOptions}). */
  public PemTrustOptions trustOptions() {
    return new PemTrustOptions().addCertPath(caCertPath.toString());
  }

  /** A JDK TLS context that trusts this CA alone, for {@code SSLSocket} clients. */
  public SSLContext clientContext() {
    try {
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      trust.setCertificateEntry("test-ca", caCertificate);
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, factory.getTrustManagers(), RANDOM);
      return context;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An RSA leaf for {@code names} (the first is the common name), in new files in the dir. */
  public Issued issue(String... names) {
    return issue(KeyType.RSA, names);
  }

  /** A leaf with a key of {@code type} for {@code names}, in new files in the directory. */
  public Issued issue(KeyType type, String... names) {
    String base = names[0].replaceAll("[^A-Za-z0-9.-]", "_") + "-" + issued.incrementAndGet();
    return issueTo(
        new CertificatePair(dir.resolve(base + "-cert.pem"), dir.resolve(base + "-key.pem")),
        type,
        names);
  }

  /**
   * A new leaf written over {@code target}'s files, each replaced atomically (key first, as a
   * renewal tool would): for reload tests.
   */
  public Issued issueTo(CertificatePair target, KeyType type, String... names) {
    if (names.length == 0) {
      throw new IllegalArgumentException("a certificate needs a name");
    }
    KeyPair keys = keyPair(type);
    Instant now = Instant.now();
    try {
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              caCertificate,
              serial(),
              Date.from(now.minus(Duration.ofMinutes(5))),
              Date.from(now.plus(VALIDITY)),
              new X500Principal("CN=" + names[0]),
              keys.getPublic());
      GeneralName[] alternativeNames = new GeneralName[names.length];
      for (int i = 0; i < names.length; i++) {
        alternativeNames[i] =
            isIpAddress(names[i])
                ? new GeneralName(GeneralName.iPAddress, names[i])
                : new GeneralName(GeneralName.dNSName, names[i]);
      }
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      builder.addExtension(
          Extension.subjectAlternativeName, false, new GeneralNames(alternativeNames));
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(
          Extension.keyUsage,
          true,
          new KeyUsage(
              type == KeyType.RSA
                  ? KeyUsage.digitalSignature | KeyUsage.keyEncipherment
                  : KeyUsage.digitalSignature));
      builder.addExtension(
          Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      builder.addExtension(
          Extension.authorityKeyIdentifier,
          false,
          extensions.createAuthorityKeyIdentifier(caCertificate));
      X509Certificate certificate = sign(builder, caKeys.getPrivate());
      write(target.keyPath(), Pem.encodePrivateKey(keys.getPrivate()), true);
      write(target.certPath(), Pem.encodeCertificates(List.of(certificate)), false);
      return new Issued(target, certificate);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot issue a test certificate", e);
    }
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey caKey)
      throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(
              builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKey)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  private static KeyPair keyPair(KeyType type) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance(type.name());
      if (type == KeyType.RSA) {
        generator.initialize(2048, RANDOM);
      } else {
        generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      }
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static BigInteger serial() {
    return new BigInteger(159, RANDOM);
  }

  private static boolean isIpAddress(String name) {
    if (!name.matches("[0-9.]+|.*:.*")) {
      return false;
    }
    try {
      // A literal is parsed, not looked up.
      InetAddress.getByName(name);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void write(Path file, String pem, boolean ownerOnly) throws IOException {
    Pem.writeAtomically(file, pem.getBytes(StandardCharsets.US_ASCII), ownerOnly);
  }
}
