package io.teller.balancer.tls;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A certificate file and its private key file, both PEM: the certificate file holds the leaf first
 * and then any intermediates; the key file holds the leaf's unencrypted private key (PKCS#8, or
 * PKCS#1 RSA, or SEC1 EC). The leaf's DNS names (subject alternative names, else the common name)
 * are the server names it is chosen for under SNI.
 */
public record CertificatePair(Path certPath, Path keyPath) {

  public CertificatePair {
    Objects.requireNonNull(certPath, "certPath");
    Objects.requireNonNull(keyPath, "keyPath");
  }

  /** The pair with both paths made absolute, so that a later change of directory is harmless. */
  public CertificatePair toAbsolute() {
    return new CertificatePair(certPath.toAbsolutePath(), keyPath.toAbsolutePath());
  }
}
