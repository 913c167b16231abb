package io.teller.balancer.tls;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringReader;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * PEM files as the TLS listener uses them: certificate chains, private keys (PKCS#8, PKCS#1 RSA,
 * SEC1 EC, unencrypted: what Vert.x's {@code PemKeyCertOptions} reads) and atomic, owner-only
 * writes. Parsing here is strict on purpose: a truncated or half-written file must fail here rather
 * than later in a TLS handshake.
 */
public final class Pem {

  private static final Base64.Encoder BASE64 =
      Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> WORLD_READABLE =
      PosixFilePermissions.fromString("rw-r--r--");

  private Pem() {}

  /** {@code -----BEGIN type-----}, the DER in Base64 lines of 64, {@code -----END type-----}. */
  public static String encode(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + BASE64.encodeToString(der)
        + "\n"
        + "-----END "
        + type
        + "-----\n";
  }

  /** A private key as an unencrypted PKCS#8 {@code PRIVATE KEY} block. */
  public static String encodePrivateKey(PrivateKey key) {
    return encode("PRIVATE KEY", key.getEncoded());
  }

  /** Certificates as {@code CERTIFICATE} blocks, leaf first. */
  public static String encodeCertificates(List<X509Certificate> chain) {
    StringBuilder pem = new StringBuilder();
    for (X509Certificate certificate : chain) {
      try {
        pem.append(encode("CERTIFICATE", certificate.getEncoded()));
      } catch (CertificateException e) {
        throw new IllegalArgumentException("certificate cannot be encoded", e);
      }
    }
    return pem.toString();
  }

  /**
   * The certificates of a PEM file, in file order (leaf first by convention).
   *
   * @throws IllegalArgumentException when the text holds no certificate or a broken block
   */
  public static List<X509Certificate> certificates(byte[] pem) {
    List<X509Certificate> chain = new ArrayList<>();
    JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
    try (PEMParser parser = parser(pem)) {
      for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
        if (o instanceof X509CertificateHolder holder) {
          chain.add(converter.getCertificate(holder));
        }
      }
    } catch (IOException | CertificateException | RuntimeException e) {
      throw new IllegalArgumentException("unreadable certificate PEM: " + e.getMessage(), e);
    }
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("no CERTIFICATE block");
    }
    return chain;
  }

  /**
   * The first private key of a PEM file.
   *
   * @throws IllegalArgumentException when there is no key, an encrypted one or a broken block
   */
  public static PrivateKey privateKey(byte[] pem) {
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    try (PEMParser parser = parser(pem)) {
      for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
        if (o instanceof PrivateKeyInfo info) {
          return converter.getPrivateKey(info);
        } else if (o instanceof PEMKeyPair pair) {
          return converter.getPrivateKey(pair.getPrivateKeyInfo());
        }
      }
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("unreadable private key PEM: " + e.getMessage(), e);
    }
    throw new IllegalArgumentException(
        "no unencrypted PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block");
  }

  /**
   * Parses a certificate file and a key file that belong together and proves that they do: the key
   * signs a random challenge that the leaf certificate's public key verifies. A certificate
   * replaced before its key (the usual order of a renewal) fails here.
   *
   * @return the leaf certificate
   * @throws IllegalArgumentException when either does not parse or they do not match
   */
  public static X509Certificate checkPair(byte[] certificatePem, byte[] keyPem) {
    X509Certificate leaf = certificates(certificatePem).get(0);
    PrivateKey key = privateKey(keyPem);
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          default ->
              throw new IllegalArgumentException(
                  "unsupported key algorithm " + key.getAlgorithm() + " (RSA or EC expected)");
        };
    byte[] challenge = new byte[32];
    new SecureRandom().nextBytes(challenge);
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(challenge);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(leaf.getPublicKey());
      verifier.update(challenge);
      if (verifier.verify(signature)) {
        return leaf;
      }
    } catch (GeneralSecurityException e) {
      // A key of the wrong type for the certificate ends up here too.
      throw new IllegalArgumentException("private key does not match the certificate", e);
    }
    throw new IllegalArgumentException("private key does not match the certificate");
  }

  /**
   * Writes a file so that readers see either the old content or the whole new one: a temporary file
   * in the same directory, flushed to disk, then moved over the target. With {@code ownerOnly} the
   * file is readable by its owner alone (0600) from its creation on, so a key is never briefly
   * readable by others; otherwise it is 0644. Permissions apply where the file system is POSIX.
   * Blocking.
   */
  public static void writeAtomically(Path file, byte[] content, boolean ownerOnly)
      throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    // createTempFile makes the file 0600 on POSIX file systems, before anything is written.
    Path temp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
    try {
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE);
          OutputStream out = Channels.newOutputStream(channel)) {
        out.write(content);
        out.flush();
        channel.force(true);
      }
      if (posix) {
        Files.setPosixFilePermissions(temp, ownerOnly ? OWNER_ONLY : WORLD_READABLE);
      }
      try {
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  private static PEMParser parser(byte[] pem) {
    return new PEMParser(new StringReader(new String(pem, StandardCharsets.US_ASCII)));
  }
}
