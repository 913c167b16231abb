package io.teller.common.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.teller.common.config.CommonSettings;
import io.teller.common.config.ConfigException;
import io.teller.common.config.TellerConfig;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cluster.tls.*}: all three files or none, each readable, and what they turn on. */
class ClusterTlsTest {

  @TempDir Path dir;

  private static TellerConfig tls(String cert, String key, String ca) {
    return TellerConfig.of(
        Map.of(
            CommonSettings.CLUSTER_TLS_CERT, cert,
            CommonSettings.CLUSTER_TLS_KEY, key,
            CommonSettings.CLUSTER_TLS_CA, ca));
  }

  @Test
  void noneSetIsPlainTcpAsBefore() {
    ClusterTls tls = ClusterTls.from(tls("", "", ""));
    assertThat(tls).isSameAs(ClusterTls.PLAIN);
    assertThat(tls.enabled()).isFalse();
    EventBusOptions options = new EventBusOptions();
    tls.applyTo(options);
    assertThat(options.isSsl()).isFalse();
    assertThat(options.getKeyCertOptions()).isNull();
  }

  @Test
  void allThreeTurnOnMutualTlsThatTrustsTheCaAlone() throws Exception {
    Path cert = Files.writeString(dir.resolve("cert.pem"), "x");
    Path key = Files.writeString(dir.resolve("key.pem"), "x");
    Path ca = Files.writeString(dir.resolve("ca.pem"), "x");
    ClusterTls tls = ClusterTls.from(tls(cert.toString(), key.toString(), ca.toString()));
    assertThat(tls).isEqualTo(new ClusterTls(cert, key, ca));
    EventBusOptions options = new EventBusOptions();
    tls.applyTo(options);
    assertThat(options.isSsl()).isTrue();
    assertThat(options.getClientAuth()).isEqualTo(ClientAuth.REQUIRED);
    assertThat(options.isTrustAll()).as("Vert.x's default for the event bus is true").isFalse();
  }

  @Test
  void oneWithoutTheOthersIsAOneLineMistake() {
    assertThatThrownBy(() -> ClusterTls.from(tls("/etc/teller/node.pem", "", "")))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "bad configuration: TELLER_CLUSTER_TLS_KEY (cluster.tls.key) and TELLER_CLUSTER_TLS_CA"
                + " (cluster.tls.ca) are not set: the event bus's TLS needs cluster.tls.cert,"
                + " cluster.tls.key and cluster.tls.ca, or none of them");
    assertThatThrownBy(
            () -> ClusterTls.from(tls("/etc/teller/node.pem", "/etc/teller/node-key.pem", "")))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("bad configuration: TELLER_CLUSTER_TLS_CA (cluster.tls.ca) is not")
        .hasMessageNotContaining("\n");
  }

  @Test
  void aFileThatCannotBeReadIsNamed() throws Exception {
    Path cert = Files.writeString(dir.resolve("cert.pem"), "x");
    Path ca = Files.writeString(dir.resolve("ca.pem"), "x");
    Path missing = dir.resolve("no-such-key.pem");
    assertThatThrownBy(
            () -> ClusterTls.from(tls(cert.toString(), missing.toString(), ca.toString())))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "bad configuration: TELLER_CLUSTER_TLS_KEY (cluster.tls.key) = \""
                + missing
                + "\": cannot read the file");
    assertThatThrownBy(() -> ClusterTls.from(tls(cert.toString(), dir.toString(), ca.toString())))
        .isInstanceOf(ConfigException.class)
        .hasMessageEndingWith("cannot read the file");
  }
}
