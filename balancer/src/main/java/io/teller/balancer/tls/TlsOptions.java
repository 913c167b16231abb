package io.teller.balancer.tls;

import io.netty.handler.ssl.OpenSsl;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.ServerSSLOptions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.KeyManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS termination settings for the balancer's HTTPS listener, after Mozilla's "intermediate"
 * profile (version 5): TLS 1.2 and 1.3 only; for TLS 1.2 only forward-secret AEAD suites (ECDHE
 * with ECDSA or RSA and AES-GCM or ChaCha20-Poly1305, then DHE-RSA with the same); the TLS 1.3
 * suites are the standard three that both engines enable by default. ALPN offers {@code h2} first,
 * then {@code http/1.1}. The engine is OpenSSL where available, else the JDK's ({@link TlsEngine}).
 *
 * <p>With several certificate pairs the listener uses SNI: a client naming a server gets the pair
 * whose leaf carries that DNS name (exact or {@code *.} wildcard); a client naming none, or a name
 * no leaf carries, gets the first pair.
 *
 * <p>Instances are immutable. {@link #applyTo} configures a server before it listens; {@link
 * #sslOptions(List, List)} gives the options for {@code HttpServer.updateSSLOptions} when the files
 * change (see {@link CertificateWatcher}).
 */
public final class TlsOptions {

  private static final Logger LOG = LoggerFactory.getLogger("teller.tls");

  /** The protocol versions offered: TLS 1.2 and 1.3; everything older is refused. */
  public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

  /** The TLS 1.3 suites, the defaults of both engines (BoringSSL cannot change them anyway). */
  public static final List<String> TLS13_CIPHER_SUITES =
      List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");

  /**
   * Mozilla intermediate's TLS 1.2 suites by their IANA (JSSE) names, which netty translates for
   * OpenSSL. The order is not a server preference: Vert.x keeps enabled suites in a hash set, and
   * the intermediate profile leaves the choice among these to the client anyway.
   */
  public static final List<String> TLS12_CIPHER_SUITES =
      List.of(
          "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
          "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
          "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
          "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
          "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
          "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
          "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

  /** ALPN, in the server's order of preference. */
  public static final List<HttpVersion> ALPN_VERSIONS =
      List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1);

  private final List<CertificatePair> pairs;
  private final TlsEngine engine;

  private TlsOptions(List<CertificatePair> pairs, TlsEngine engine) {
    this.pairs = pairs;
    this.engine = engine;
  }

  /** One certificate for every client. */
  public static TlsOptions of(CertificatePair pair) {
    return of(List.of(pair));
  }

  /**
   * Certificates chosen by server name (SNI); the first is the default. The engine is {@link
   * TlsEngine#best()}.
   */
  public static TlsOptions of(List<CertificatePair> pairs) {
    if (pairs.isEmpty()) {
      throw new IllegalArgumentException("at least one certificate/key pair is needed");
    }
    return new TlsOptions(
        pairs.stream().map(CertificatePair::toAbsolute).toList(), TlsEngine.best());
  }

  /** The same settings with another engine (tests run both). */
  public TlsOptions withEngine(TlsEngine engine) {
    if (!engine.isAvailable()) {
      throw new IllegalArgumentException(engine + " is not available in this process");
    }
    return new TlsOptions(pairs, engine);
  }

  /** The certificate pairs, default first, with absolute paths. */
  public List<CertificatePair> pairs() {
    return pairs;
  }

  /** The engine the listener will use. */
  public TlsEngine engine() {
    return engine;
  }

  /** Whether SNI is on: only with more than one pair, as one pair serves every name anyway. */
  public boolean sni() {
    return pairs.size() > 1;
  }

  /** The cipher suites given to the engine: TLS 1.3's, then TLS 1.2's that the engine has. */
  public List<String> cipherSuites() {
    List<String> suites = new ArrayList<>(TLS13_CIPHER_SUITES);
    for (String suite : TLS12_CIPHER_SUITES) {
      // BoringSSL has dropped DHE; netty maps the IANA names to OpenSSL's for the rest.
      if (engine != TlsEngine.OPENSSL || OpenSsl.isCipherSuiteAvailable(suite)) {
        suites.add(suite);
      }
    }
    return suites;
  }

  /**
   * Turns {@code options} into a TLS listener with these settings and the certificate files; Vert.x
   * reads the files when the server starts listening. Logs the engine once per call.
   *
   * @return {@code options}
   */
  public HttpServerOptions applyTo(HttpServerOptions options) {
    ServerSSLOptions ssl = sslOptions();
    options
        .setSsl(true)
        .setSslEngineOptions(engine.sslEngineOptions())
        .setKeyCertOptions(ssl.getKeyCertOptions())
        .setSni(ssl.isSni())
        .setUseAlpn(true)
        .setAlpnVersions(ALPN_VERSIONS)
        .setEnabledSecureTransportProtocols(ssl.getEnabledSecureTransportProtocols());
    for (String suite : List.copyOf(options.getEnabledCipherSuites())) {
      options.removeEnabledCipherSuite(suite);
    }
    ssl.getEnabledCipherSuites().forEach(options::addEnabledCipherSuite);
    LOG.info(
        "TLS with the {}: {}, ALPN {}, {} cipher suites, {} certificate(s){}",
        engine.description(),
        String.join("/", PROTOCOLS),
        alpnNames(),
        cipherSuites().size(),
        pairs.size(),
        sni() ? " chosen by SNI" : "");
    return options;
  }

  /** The SSL options that read the certificate files (as {@link #applyTo} sets them). */
  public ServerSSLOptions sslOptions() {
    PemKeyCertOptions keyCert = pemOptions();
    for (CertificatePair pair : pairs) {
      keyCert.addCertPath(pair.certPath().toString()).addKeyPath(pair.keyPath().toString());
    }
    return sslOptions(keyCert);
  }

  /**
   * The SSL options for the given file contents, one certificate and one key per pair in the order
   * of {@link #pairs()}: what {@code HttpServer.updateSSLOptions} needs on a reload. Contents
   * rather than paths, because Vert.x caches the loaded key material by these options: the same
   * paths would give the old certificate back.
   */
  public ServerSSLOptions sslOptions(List<Buffer> certificates, List<Buffer> keys) {
    if (certificates.size() != pairs.size() || keys.size() != pairs.size()) {
      throw new IllegalArgumentException("one certificate and one key per pair expected");
    }
    PemKeyCertOptions keyCert = pemOptions();
    for (int i = 0; i < pairs.size(); i++) {
      keyCert.addCertValue(certificates.get(i)).addKeyValue(keys.get(i));
    }
    return sslOptions(keyCert);
  }

  // Everything, not only the keys: updateSSLOptions replaces the whole SSL configuration, and
  // options left out (suites, protocols) would fall back to Vert.x's defaults.
  private ServerSSLOptions sslOptions(PemKeyCertOptions keyCert) {
    ServerSSLOptions ssl =
        new ServerSSLOptions()
            .setKeyCertOptions(keyCert)
            .setSni(sni())
            .setUseAlpn(true)
            .setEnabledSecureTransportProtocols(new LinkedHashSet<>(PROTOCOLS));
    cipherSuites().forEach(ssl::addEnabledCipherSuite);
    return ssl;
  }

  private PemKeyCertOptions pemOptions() {
    return sni() ? new DefaultFirstPemKeyCertOptions() : new PemKeyCertOptions();
  }

  private static String alpnNames() {
    return String.join("/", ALPN_VERSIONS.stream().map(HttpVersion::alpnName).toList());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TlsOptions that && pairs.equals(that.pairs) && engine == that.engine;
  }

  @Override
  public int hashCode() {
    return Objects.hash(pairs, engine);
  }

  @Override
  public String toString() {
    return "TlsOptions" + pairs + " " + engine;
  }

  /**
   * PEM key/certificate options whose default pair (for clients that send no server name, or one no
   * certificate carries) is the first. Plain {@link PemKeyCertOptions} leaves that choice to a JDK
   * key manager over all pairs, which picks by key type and hash order, not by position.
   */
  static final class DefaultFirstPemKeyCertOptions extends PemKeyCertOptions {

    DefaultFirstPemKeyCertOptions() {}

    DefaultFirstPemKeyCertOptions(DefaultFirstPemKeyCertOptions other) {
      super(other);
    }

    @Override
    public DefaultFirstPemKeyCertOptions copy() {
      return new DefaultFirstPemKeyCertOptions(this);
    }

    /** Called by Vert.x on a worker thread while it loads the key material. */
    @Override
    public KeyManagerFactory getKeyManagerFactory(Vertx vertx) throws Exception {
      return firstPair().getKeyManagerFactory(vertx);
    }

    private PemKeyCertOptions firstPair() {
      PemKeyCertOptions first = new PemKeyCertOptions();
      // Paths come before values in Vert.x's own reading order; TlsOptions uses one or the other.
      if (!getCertPaths().isEmpty()) {
        first.setCertPath(getCertPaths().get(0));
      } else {
        first.setCertValue(getCertValues().get(0));
      }
      if (!getKeyPaths().isEmpty()) {
        first.setKeyPath(getKeyPaths().get(0));
      } else {
        first.setKeyValue(getKeyValues().get(0));
      }
      return first;
    }
  }
}
