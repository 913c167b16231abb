package io.teller.balancer.tls;

import io.vertx.core.Context;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The self-signed certificate the balancer serves HTTPS with when none is configured, so that the
 * listener works on first start. It is for {@code localhost} only (DNS {@code localhost}, IP {@code
 * 127.0.0.1} and {@code ::1}), an EC P-256 key (generated in milliseconds, where RSA 2048 would add
 * a noticeable pause to the first start), valid for one year. It lives under the data directory as
 * {@code tls/localhost-cert.pem} and {@code tls/localhost-key.pem} (PKCS#8, mode 0600; the {@code
 * tls} directory is 0700).
 *
 * <p>{@link #ensure} reuses the files while they are readable, belong together and are within their
 * validity; otherwise (missing, damaged, expired) it makes new ones. Each file is written
 * atomically, key first, so a crash leaves either the old pair, or a new key with an old
 * certificate, which the next start sees as a mismatch and replaces.
 *
 * @param certPath the certificate file
 * @param keyPath the private key file
 * @param generated whether this call made the files (false: reused)
 */
public record DevelopmentCertificate(Path certPath, Path keyPath, boolean generated) {

  private static final Logger LOG = LoggerFactory.getLogger("teller.tls");

  /** The name the certificate is for. */
  public static final String HOST = "localhost";

  /** How long a generated certificate is valid. */
  public static final Duration VALIDITY = Duration.ofDays(365);

  /** The directory under the data directory, and the two file names in it. */
  public static final String DIRECTORY = "tls";

  public static final String CERT_FILE = "localhost-cert.pem";
  public static final String KEY_FILE = "localhost-key.pem";

  // A client clock a little behind ours must not see a certificate from the future.
  private static final Duration BACKDATE = Duration.ofMinutes(5);

  /** The pair to configure the listener with. */
  public CertificatePair pair() {
    return new CertificatePair(certPath, keyPath);
  }

  /**
   * Returns the development certificate under {@code dataDir}, generating it when missing, damaged
   * or expired.
   *
   * <p>Blocking (file I/O, key generation): call it from {@code vertx.executeBlocking(...)} or
   * before Vert.x starts, never on an event loop, where it throws.
   *
   * @throws IllegalStateException on an event-loop thread
   * @throws UncheckedIOException when the files cannot be written
   */
  public static DevelopmentCertificate ensure(Path dataDir) {
    return ensure(dataDir, Clock.systemUTC());
  }

  static DevelopmentCertificate ensure(Path dataDir, Clock clock) {
    if (Context.isOnEventLoopThread()) {
      throw new IllegalStateException(
          "DevelopmentCertificate.ensure blocks: call it through vertx.executeBlocking");
    }
    Path dir = dataDir.resolve(DIRECTORY);
    Path certPath = dir.resolve(CERT_FILE);
    Path keyPath = dir.resolve(KEY_FILE);
    try {
      String reason = reasonToRegenerate(certPath, keyPath, clock.instant());
      if (reason == null) {
        return new DevelopmentCertificate(certPath, keyPath, false);
      }
      createPrivateDirectory(dir);
      X509Certificate certificate = generate(certPath, keyPath, clock.instant());
      LOG.info(
          "generated a self-signed TLS certificate for {} ({}): {}, valid until {}",
          HOST,
          reason,
          certPath,
          certificate.getNotAfter().toInstant());
      return new DevelopmentCertificate(certPath, keyPath, true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the development certificate under " + dir, e);
    }
  }

  /** Why the files cannot be reused, or null when they can. */
  private static String reasonToRegenerate(Path certPath, Path keyPath, Instant now)
      throws IOException {
    X509Certificate leaf;
    try {
      leaf = Pem.checkPair(Files.readAllBytes(certPath), Files.readAllBytes(keyPath));
    } catch (NoSuchFileException e) {
      return "none yet";
    } catch (IllegalArgumentException e) {
      LOG.warn(
          "development certificate {} is unusable, replacing it: {}", certPath, e.getMessage());
      return "the old one was unusable";
    }
    if (!now.isBefore(leaf.getNotAfter().toInstant())) {
      return "the old one expired on " + leaf.getNotAfter().toInstant();
    }
    if (now.isBefore(leaf.getNotBefore().toInstant())) {
      return "the old one is not valid before " + leaf.getNotBefore().toInstant();
    }
    return null;
  }

  private static void createPrivateDirectory(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    Files.createDirectories(dir.toAbsolutePath().getParent());
    try {
      if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
        Files.createDirectory(
            dir,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } else {
        Files.createDirectory(dir);
      }
    } catch (FileAlreadyExistsException e) {
      // Another process made it between our check and now: fine.
    }
  }

  private static X509Certificate generate(Path certPath, Path keyPath, Instant now)
      throws IOException {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair keys = generator.generateKeyPair();
      X500Name subject = new X500Name("CN=" + HOST + ",O=Teller development");
      // 159 random bits: unique, positive, and within RFC 5280's 20 octets.
      BigInteger serial = new BigInteger(159, new SecureRandom());
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              subject,
              serial,
              Date.from(now.minus(BACKDATE)),
              Date.from(now.plus(VALIDITY)),
              subject,
              keys.getPublic());
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      builder.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(
              new GeneralName[] {
                new GeneralName(GeneralName.dNSName, HOST),
                new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                new GeneralName(GeneralName.iPAddress, "::1")
              }));
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      builder.addExtension(
          Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      builder.addExtension(
          Extension.subjectKeyIdentifier,
          false,
          extensions.createSubjectKeyIdentifier(keys.getPublic()));
      X509Certificate certificate =
          new JcaX509CertificateConverter()
              .getCertificate(
                  builder.build(
                      new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
      // Key first: a crash before the certificate is written leaves a mismatch, which the next
      // start detects and repairs, never a certificate whose key is lost.
      Pem.writeAtomically(
          keyPath,
          Pem.encodePrivateKey(keys.getPrivate()).getBytes(StandardCharsets.US_ASCII),
          true);
      Pem.writeAtomically(
          certPath,
          Pem.encodeCertificates(List.of(certificate)).getBytes(StandardCharsets.US_ASCII),
          false);
      return certificate;
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException("cannot generate the development certificate", e);
    }
  }
}
