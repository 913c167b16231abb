package io.teller.common.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.properties.PropertyDefinition;
import com.hazelcast.kubernetes.KubernetesProperties;
import io.teller.common.config.CommonSettings;
import io.teller.common.config.ConfigException;
import io.teller.common.config.ConfigLoader;
import io.teller.common.config.Setting;
import io.teller.common.config.TellerConfig;
import io.teller.common.testing.TestClusters;
import io.vertx.core.Vertx;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cluster.discovery} from the settings to the Hazelcast join configuration it builds: TCP-IP
 * from the member list, or Hazelcast's Kubernetes discovery over the registry's Service (DNS or API
 * mode). No Kubernetes runs here; DNS mode is also run for real, on loopback, where a name that
 * resolves to the members' address stands for the headless Service.
 */
@Timeout(120)
class ClusterDiscoveryTest {

  static Vertx vertx;

  @TempDir Path dir;

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopVertx() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void tcpFromTheMemberListIsTheDefault() throws Exception {
    ClusterOptions options = ClusterOptions.from(load(""), ClusterRole.LITE);

    assertThat(options.discovery()).isEqualTo(ClusterDiscovery.TCP);
    JoinConfig join = join(options);
    assertThat(join.getTcpIpConfig().isEnabled()).isTrue();
    assertThat(join.getTcpIpConfig().getMembers())
        .containsExactly("127.0.0.1:5701", "127.0.0.1:5702", "127.0.0.1:5703");
    assertThat(join.getKubernetesConfig().isEnabled()).isFalse();
    assertThat(options.seeds()).isEqualTo("127.0.0.1");
  }

  @Test
  void kubernetesDiscoveryLooksTheHeadlessServiceUpInDnsByDefault() throws Exception {
    ClusterOptions options =
        ClusterOptions.from(load("cluster:\n  discovery: kubernetes\n"), ClusterRole.LITE);

    assertThat(options.discovery())
        .isEqualTo(ClusterDiscovery.kubernetesDns("teller-registry-headless"));
    JoinConfig join = join(options);
    assertThat(join.getTcpIpConfig().isEnabled()).isFalse();
    assertThat(join.getKubernetesConfig().isEnabled()).isTrue();
    assertThat(join.getKubernetesConfig().getProperties())
        .containsEntry("service-dns", "teller-registry-headless")
        .containsEntry("service-port", "5701")
        .doesNotContainKeys("service-name", "namespace");
    assertThat(options.seeds()).isEqualTo("teller-registry-headless (Kubernetes DNS)");
  }

  @Test
  void apiModeReadsTheServicesEndpointsAndAsksForNothingElse() throws Exception {
    ClusterOptions options =
        ClusterOptions.from(
            load(
                """
                cluster:
                  discovery: kubernetes
                  port: 5801
                  kubernetes:
                    mode: api
                    service: registry-peers
                """),
            ClusterRole.DATA);

    assertThat(options.discovery()).isEqualTo(ClusterDiscovery.kubernetesApi("registry-peers"));
    JoinConfig join = join(options);
    assertThat(join.getTcpIpConfig().isEnabled()).isFalse();
    assertThat(join.getKubernetesConfig().getProperties())
        .containsEntry("service-name", "registry-peers")
        .containsEntry("service-port", "5801")
        .containsEntry("expose-externally", "false")
        .containsEntry("resolve-not-ready-addresses", "true")
        .doesNotContainKey("service-dns");
  }

  /** A misspelt property would be ignored by Hazelcast, and discovery would silently change. */
  @Test
  void everyKubernetesPropertySetIsOneHazelcastKnows() throws Exception {
    Set<String> known = new java.util.HashSet<>();
    for (Field field : KubernetesProperties.class.getFields()) {
      if (Modifier.isStatic(field.getModifiers())
          && PropertyDefinition.class.isAssignableFrom(field.getType())) {
        known.add(((PropertyDefinition) field.get(null)).key());
      }
    }
    assertThat(known).contains("service-dns", "service-name", "namespace");
    for (String mode : List.of("dns", "api")) {
      JoinConfig join =
          join(
              ClusterOptions.from(
                  load("cluster:\n  discovery: kubernetes\n  kubernetes:\n    mode: " + mode),
                  ClusterRole.DATA));
      assertThat(join.getKubernetesConfig().getProperties().keySet())
          .as("mode %s", mode)
          .isSubsetOf(known);
    }
  }

  @Test
  void badValuesAreOneLineNamingTheSetting() throws Exception {
    assertThatThrownBy(() -> load("cluster:\n  discovery: consul\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "bad configuration: TELLER_CLUSTER_DISCOVERY (cluster.discovery) = \"consul\": must be"
                + " one of tcp, kubernetes");
    assertThatThrownBy(
            () -> load("cluster:\n  discovery: kubernetes\n  kubernetes:\n    mode: rest\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "TELLER_CLUSTER_KUBERNETES_MODE (cluster.kubernetes.mode) = \"rest\"");
    TellerConfig apiWithDnsName =
        load(
            """
            cluster:
              discovery: kubernetes
              kubernetes:
                mode: api
                service: teller-registry-headless.teller.svc.cluster.local
            """);
    assertThatThrownBy(() -> ClusterOptions.from(apiWithDnsName, ClusterRole.LITE))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "bad configuration: TELLER_CLUSTER_KUBERNETES_SERVICE (cluster.kubernetes.service) ="
                + " \"teller-registry-headless.teller.svc.cluster.local\": in api mode, must be"
                + " the Service's name (no dots)");
  }

  /**
   * Hazelcast's Kubernetes DNS discovery for real: a data member and a lite member each find the
   * other through a name ({@code localhost}) instead of a member list, as registry pods, balancers
   * and backends find each other through the registry's headless Service.
   */
  @Test
  void membersFindEachOtherThroughTheNameInDnsMode() throws Exception {
    try (TestClusters clusters = new TestClusters("k8s-dns")) {
      int port = TestClusters.freePort();
      ClusterDiscovery dns = ClusterDiscovery.kubernetesDns("localhost");
      TellerCluster data =
          clusters.start(
              new ClusterOptions(
                  clusters.name(), List.of(), "127.0.0.1", port, ClusterRole.DATA, dns));
      // The lite member takes the next port up (port auto-increment) and still contacts the data
      // member on the configured port, as Kubernetes discovery does.
      TellerCluster lite =
          clusters.start(
              new ClusterOptions(
                  clusters.name(), List.of(), "127.0.0.1", port, ClusterRole.LITE, dns));

      assertThat(lite.memberCount()).isEqualTo(2);
      assertThat(data.memberCount()).isEqualTo(2);
      assertThat(
              lite.hazelcast().getCluster().getMembers().stream()
                  .filter(m -> !m.isLiteMember())
                  .map(m -> m.getAddress().getPort())
                  .collect(Collectors.toList()))
          .containsExactly(port);
    }
  }

  private static JoinConfig join(ClusterOptions options) {
    Config config = TellerCluster.hazelcastConfig(options, "10.1.2.3");
    JoinConfig join = config.getNetworkConfig().getJoin();
    // Hazelcast refuses to start with two join methods enabled; this is its own check.
    join.verify();
    assertThat(join.getMulticastConfig().isEnabled()).isFalse();
    assertThat(join.getAutoDetectionConfig().isEnabled()).isFalse();
    assertThat(config.getProperty("hazelcast.local.localAddress")).isEqualTo("10.1.2.3");
    return join;
  }

  private TellerConfig load(String yaml) throws Exception {
    Path file = Files.createTempFile(dir, "teller", ".yaml");
    Files.writeString(file, yaml.isEmpty() ? "{}\n" : yaml);
    List<Setting> settings = new ArrayList<>(CommonSettings.ALL);
    try {
      return ConfigLoader.load(vertx, "teller-test-defaults.yaml", Optional.of(file), settings)
          .toCompletionStage()
          .toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }
}
