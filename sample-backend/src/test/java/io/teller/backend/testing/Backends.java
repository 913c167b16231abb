package io.teller.backend.testing;

import io.teller.backend.BackendSettings;
import io.teller.backend.BackendVerticle;
import io.teller.backend.registration.EventBusRegistryLink;
import io.teller.backend.registration.RestRegistryLink;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.config.CommonSettings;
import io.teller.common.config.Setting;
import io.teller.common.config.TellerConfig;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Sample backends deployed in the test JVM, on 127.0.0.1 and a free port. */
public final class Backends {

  private Backends() {}

  /** A deployed backend: its verticle and deployment id. */
  public record Deployed(Vertx vertx, BackendVerticle verticle, String deploymentId) {
    public String url(String path) {
      return "http://127.0.0.1:" + verticle.actualPort() + path;
    }

    public String id() {
      return verticle.instanceId();
    }

    /** Undeploys (its stop() deregisters and drains); returns without waiting. */
    public io.vertx.core.Future<Void> undeploy() {
      return vertx.undeploy(deploymentId);
    }
  }

  /** The backend's configuration with its defaults, then {@code overrides}. */
  public static TellerConfig config(Map<Setting, Object> overrides) {
    Map<Setting, Object> values = new LinkedHashMap<>();
    values.put(CommonSettings.CLUSTER_NAME, "unused");
    values.put(CommonSettings.CLUSTER_MEMBERS, List.of("127.0.0.1"));
    values.put(CommonSettings.CLUSTER_HOST, "127.0.0.1");
    values.put(CommonSettings.CLUSTER_PORT, 5701);
    values.put(CommonSettings.LISTEN_HOST, "127.0.0.1");
    values.put(CommonSettings.DATA_DIR, Path.of(System.getProperty("java.io.tmpdir")));
    values.put(BackendSettings.PORT, 0);
    values.put(BackendSettings.SERVICE, "sample");
    values.put(BackendSettings.WEIGHT, 1);
    values.put(BackendSettings.ADVERTISE_HOST, "");
    values.put(BackendSettings.TTL, 10);
    values.put(BackendSettings.CONCURRENCY, 0);
    values.put(BackendSettings.DRAIN_MS, 10_000);
    values.put(BackendSettings.WARMUP_MS, 0);
    values.put(BackendSettings.WARMUP_DELAY_MS, 200);
    values.put(BackendSettings.ROUTE, "/");
    values.put(BackendSettings.REGISTRY_URL, "");
    values.put(BackendSettings.API_TOKEN, "");
    values.putAll(overrides);
    return TellerConfig.of(values);
  }

  /** A backend registering over REST at {@code registryUrl}, on a plain Vert.x. */
  public static Deployed overRest(Vertx vertx, String registryUrl, Map<Setting, Object> overrides) {
    Map<Setting, Object> values = new LinkedHashMap<>(overrides);
    values.put(BackendSettings.REGISTRY_URL, registryUrl);
    values.putIfAbsent(BackendSettings.API_TOKEN, TestRegistry.TOKEN);
    TellerConfig config = config(values);
    BackendVerticle verticle =
        new BackendVerticle(
            config,
            v ->
                new RestRegistryLink(
                    v,
                    registryUrl,
                    config.string(BackendSettings.API_TOKEN),
                    config.string(BackendSettings.ROUTE)));
    return new Deployed(vertx, verticle, Await.result(vertx.deployVerticle(verticle)));
  }

  /** A backend registering over the event bus from the lite member {@code node}. */
  public static Deployed overEventBus(TellerCluster node, Map<Setting, Object> overrides) {
    BackendVerticle verticle =
        new BackendVerticle(
            config(overrides), v -> new EventBusRegistryLink(v, node::memberId, "/"));
    return new Deployed(
        node.vertx(), verticle, Await.result(node.vertx().deployVerticle(verticle)));
  }
}
