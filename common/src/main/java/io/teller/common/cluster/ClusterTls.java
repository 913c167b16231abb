package io.teller.common.cluster;

import io.teller.common.config.CommonSettings;
import io.teller.common.config.ConfigException;
import io.teller.common.config.Setting;
import io.teller.common.config.TellerConfig;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The clustered event bus over TLS with client certificates ({@code cluster.tls.*}), or plain TCP.
 *
 * <p>With TLS, every event-bus connection between two members is mutually authenticated: each side
 * shows its certificate and accepts only one signed by the CA, so a process without such a
 * certificate can neither send to nor receive from the members, though it may still join Hazelcast
 * (the open-source edition has no member authentication, and its own protocol stays plain). Vert.x
 * connects to the address a member advertises, not to a name, and checks no host name: the CA's
 * signature is the identity.
 *
 * @param cert this node's certificate (PEM), or null for plain TCP
 * @param key the certificate's private key (PEM), or null for plain TCP
 * @param ca the CA certificate(s) (PEM) that members' certificates must be signed by, or null
 */
public record ClusterTls(Path cert, Path key, Path ca) {

  /** Plain TCP, as without {@code cluster.tls.*}. */
  public static final ClusterTls PLAIN = new ClusterTls(null, null, null);

  public ClusterTls {
    if ((cert == null) != (key == null) || (cert == null) != (ca == null)) {
      throw new IllegalArgumentException("cert, key and ca go together, or none of them");
    }
  }

  /**
   * The TLS that {@code cluster.tls.cert}, {@code .key} and {@code .ca} describe: all three set, or
   * none for plain TCP; anything else, or a file that cannot be read, is a configuration mistake.
   */
  public static ClusterTls from(TellerConfig config) {
    List<Setting> settings =
        List.of(
            CommonSettings.CLUSTER_TLS_CERT,
            CommonSettings.CLUSTER_TLS_KEY,
            CommonSettings.CLUSTER_TLS_CA);
    List<Setting> missing = new ArrayList<>();
    for (Setting setting : settings) {
      if (config.string(setting).isEmpty()) {
        missing.add(setting);
      }
    }
    if (missing.size() == settings.size()) {
      return PLAIN;
    }
    if (!missing.isEmpty()) {
      throw new ConfigException(
          "bad configuration: "
              + missing.stream()
                  .map(s -> s.env() + " (" + s.path() + ")")
                  .collect(Collectors.joining(" and "))
              + (missing.size() == 1 ? " is" : " are")
              + " not set: the event bus's TLS needs cluster.tls.cert, cluster.tls.key and"
              + " cluster.tls.ca, or none of them");
    }
    List<Path> files = new ArrayList<>();
    for (Setting setting : settings) {
      Path file = Path.of(config.string(setting));
      if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
        throw ConfigException.badValue(setting, file, "cannot read the file");
      }
      files.add(file);
    }
    return new ClusterTls(files.get(0), files.get(1), files.get(2));
  }

  /** Whether the event bus runs over TLS. */
  public boolean enabled() {
    return cert != null;
  }

  /**
   * Sets {@code options} (the clustered event bus's: its server and its client to the other members
   * are both made from them) to TLS with this node's certificate, trust in the CA alone, and a
   * certificate required from every peer. Plain TCP leaves them as they are.
   */
  void applyTo(EventBusOptions options) {
    if (!enabled()) {
      return;
    }
    options
        .setSsl(true)
        .setKeyCertOptions(
            new PemKeyCertOptions().setCertPath(cert.toString()).setKeyPath(key.toString()))
        .setTrustOptions(new PemTrustOptions().addCertPath(ca.toString()))
        // EventBusOptions trusts every server certificate by default (DEFAULT_TRUST_ALL is true in
        // Vert.x 5.0.7): left so, a member would send to an outsider that shows any certificate.
        .setTrustAll(false)
        .setClientAuth(ClientAuth.REQUIRED);
  }
}
