package io.teller.registry.testing;

import io.teller.common.cluster.ClusterRole;
import io.teller.common.cluster.MemberListeners;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.config.CommonSettings;
import io.teller.common.config.Setting;
import io.teller.common.config.TellerConfig;
import io.teller.common.model.Change;
import io.teller.common.model.RegistryContract;
import io.teller.common.testing.TestClusters;
import io.teller.registry.RegistrySettings;
import io.teller.registry.RegistryVerticle;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Registry nodes in this JVM for tests: each a real data member of a test cluster with the registry
 * verticle deployed on a free port. Closing stops every node (and any lite member started through
 * {@link #clusters()}).
 */
public final class RegistryNodes implements AutoCloseable {

  public static final String TOKEN = "test-token";

  private final TestClusters clusters;
  private final Path dataDir;
  private int started;

  public RegistryNodes(String prefix, Path dataDir) {
    this.clusters = new TestClusters(prefix);
    this.dataDir = dataDir;
  }

  /** A started registry node. */
  public record Node(TellerCluster cluster, int port) {
    public String url(String path) {
      return "http://127.0.0.1:" + port + path;
    }
  }

  public TestClusters clusters() {
    return clusters;
  }

  /**
   * Starts a registry node and waits until its API listens. Each node keeps its state under its own
   * {@code node-N} directory of the data directory (two nodes cannot share one).
   */
  public Node start() {
    return start(Map.of());
  }

  /** As {@link #start()}, with {@code settings} over the test's defaults. */
  public Node start(Map<Setting, Object> settings) {
    int port = TestClusters.freePort();
    // As RegistryMain publishes it: the registry refuses instances at its own API port.
    TellerCluster cluster =
        clusters.start(
            clusters
                .options(ClusterRole.DATA)
                .withListeners(new MemberListeners(Map.of("api", port), false)));
    Map<Setting, Object> values = new LinkedHashMap<>();
    values.put(CommonSettings.CLUSTER_NAME, clusters.name());
    values.put(CommonSettings.CLUSTER_MEMBERS, clusters.members());
    values.put(CommonSettings.CLUSTER_HOST, "127.0.0.1");
    values.put(CommonSettings.CLUSTER_PORT, cluster.options().port());
    values.put(CommonSettings.LISTEN_HOST, "127.0.0.1");
    values.put(CommonSettings.DATA_DIR, dataDir.resolve("node-" + started++));
    values.put(RegistrySettings.PORT, port);
    values.put(RegistrySettings.API_TOKEN, TOKEN);
    values.put(RegistrySettings.INSTANCES_ALLOW, List.of());
    values.put(RegistrySettings.INSTANCES_DENY, List.of());
    values.put(RegistrySettings.EVENTS_MAX_CLIENTS, 256);
    values.putAll(settings);
    try {
      cluster
          .vertx()
          .deployVerticle(new RegistryVerticle(TellerConfig.of(values), cluster))
          .toCompletionStage()
          .toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("registry did not start", e);
    }
    return new Node(cluster, port);
  }

  /** Stops one node cleanly. */
  public void stop(Node node) {
    clusters.stop(node.cluster());
  }

  @Override
  public void close() {
    clusters.close();
  }

  /** Settings for a registry process joining this test cluster, as environment variables. */
  public Map<String, String> processEnv(int apiPort) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("TELLER_CLUSTER_NAME", clusters.name());
    env.put("TELLER_CLUSTER_MEMBERS", String.join(",", clusters.members()));
    env.put("TELLER_CLUSTER_PORT", String.valueOf(TestClusters.freePort()));
    env.put("TELLER_REGISTRY_PORT", String.valueOf(apiPort));
    env.put("TELLER_LISTEN_HOST", "127.0.0.1");
    env.put("TELLER_API_TOKEN", TOKEN);
    env.put("TELLER_DATA_DIR", dataDir.resolve("process-" + apiPort).toString());
    return env;
  }

  /**
   * Subscribes {@code member} to the changes the registry publishes; returns, once subscribed, the
   * list they are added to as they arrive.
   */
  public static List<Change> changesSeenBy(TellerCluster member) throws Exception {
    List<Change> changes = new CopyOnWriteArrayList<>();
    member
        .vertx()
        .eventBus()
        .<io.vertx.core.json.JsonObject>consumer(
            RegistryContract.CHANGES, message -> changes.add(Change.fromJson(message.body())))
        .completion()
        .toCompletionStage()
        .toCompletableFuture()
        .get(20, TimeUnit.SECONDS);
    return changes;
  }
}
