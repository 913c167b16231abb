package io.teller.backend.testing;

import io.teller.common.cluster.ClusterRole;
import io.teller.common.cluster.MemberListeners;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.config.CommonSettings;
import io.teller.common.config.Setting;
import io.teller.common.config.TellerConfig;
import io.teller.common.testing.TestClusters;
import io.teller.registry.RegistrySettings;
import io.teller.registry.RegistryVerticle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A real registry in the test JVM: {@link RegistryVerticle} on data nodes of one test cluster, each
 * with its API on a free port (after the registry module's own {@code RegistryNodes}). Closing
 * stops every node, lite members started through {@link #clusters()} included.
 */
public final class TestRegistry implements AutoCloseable {

  public static final String TOKEN = "test-token";

  private final TestClusters clusters;
  private final Path dataDir;
  private final List<Integer> ports = new ArrayList<>();
  private final List<TellerCluster> nodes = new ArrayList<>();
  private final List<String> deployments = new ArrayList<>();

  public TestRegistry(String prefix, Path dataDir) {
    this.clusters = new TestClusters(prefix);
    this.dataDir = dataDir;
  }

  /** Starts a registry node with its API on a free port; returns that port. */
  public int start() {
    return start(TestClusters.freePort());
  }

  /** Starts a registry node with its API on {@code port} and waits until it listens. */
  public int start(int port) {
    // As RegistryMain publishes it: the registry refuses instances at its own API port.
    TellerCluster node =
        clusters.start(
            clusters
                .options(ClusterRole.DATA)
                .withListeners(new MemberListeners(Map.of("api", port), false)));
    nodes.add(node);
    ports.add(port);
    deployments.add(deploy(node, port, nodes.size() - 1));
    return port;
  }

  /**
   * Undeploys the first node's registry, leaving its data node (and the registry's state) in place:
   * the event-bus API has no handlers until {@link #redeployFirst()}.
   */
  public void undeployFirst() {
    Await.result(nodes.get(0).vertx().undeploy(deployments.get(0)));
  }

  /** Deploys the first node's registry again, on the same port. */
  public void redeployFirst() {
    deployments.set(0, deploy(nodes.get(0), ports.get(0), 0));
  }

  /** Node {@code index} keeps its state in its own directory: two nodes cannot share one. */
  private String deploy(TellerCluster node, int port, int index) {
    Map<Setting, Object> values = new LinkedHashMap<>();
    values.put(CommonSettings.CLUSTER_NAME, clusters.name());
    values.put(CommonSettings.CLUSTER_MEMBERS, clusters.members());
    values.put(CommonSettings.CLUSTER_HOST, "127.0.0.1");
    values.put(CommonSettings.CLUSTER_PORT, node.options().port());
    values.put(CommonSettings.LISTEN_HOST, "127.0.0.1");
    values.put(CommonSettings.DATA_DIR, dataDir.resolve("node-" + index));
    values.put(RegistrySettings.PORT, port);
    values.put(RegistrySettings.API_TOKEN, TOKEN);
    values.put(RegistrySettings.INSTANCES_ALLOW, List.of());
    values.put(RegistrySettings.INSTANCES_DENY, List.of());
    values.put(RegistrySettings.EVENTS_MAX_CLIENTS, 256);
    return Await.result(
        node.vertx().deployVerticle(new RegistryVerticle(TellerConfig.of(values), node)));
  }

  /** The first node's API URL for {@code path}, e.g. {@code /v1/services}. */
  public String url(String path) {
    return "http://127.0.0.1:" + ports.get(0) + path;
  }

  /** The test cluster, to start lite members in. */
  public TestClusters clusters() {
    return clusters;
  }

  @Override
  public void close() {
    clusters.close();
  }
}
