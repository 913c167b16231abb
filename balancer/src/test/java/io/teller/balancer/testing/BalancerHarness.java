package io.teller.balancer.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.balancer.BalancerSettings;
import io.teller.balancer.BalancerVerticle;
import io.teller.balancer.tcp.Transports;
import io.teller.common.cluster.ClusterRole;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.config.CommonSettings;
import io.teller.common.config.Setting;
import io.teller.common.config.TellerConfig;
import io.teller.common.testing.Poll;
import io.teller.common.testing.TestClusters;
import io.teller.registry.testing.Http;
import io.teller.registry.testing.RegistryNodes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A whole small Teller in this JVM for balancer tests: a registry node (data member), a balancer
 * (lite member) with real TLS from a test CA, and backends as real HTTP servers. Close to stop it
 * all.
 */
public final class BalancerHarness implements AutoCloseable {

  private final RegistryNodes registry;
  private final RegistryNodes.Node registryNode;
  private final TellerCluster balancerNode;
  private final TestCertificates certificates;
  private final TestCertificates.Issued cert;
  private final Path dir;
  private final boolean redirectHttp;
  private final Map<Setting, Object> overrides;
  private final Vertx backendVertx = Vertx.vertx();
  private final List<HttpServer> backends = new ArrayList<>();
  private int httpsPort;
  private int httpPort;
  private int adminPort;
  private BalancerVerticle balancer;

  public BalancerHarness(Path dir, boolean redirectHttp) {
    this(dir, redirectHttp, Map.of());
  }

  /** A harness whose balancer has {@code extra} settings on top of the test defaults. */
  public BalancerHarness(Path dir, boolean redirectHttp, Map<Setting, Object> extra) {
    this.dir = dir;
    this.redirectHttp = redirectHttp;
    this.overrides = Map.copyOf(extra);
    registry = new RegistryNodes("balancer", dir.resolve("registry"));
    registryNode = registry.start();
    // The balancer's node runs on the transport the settings name (as the launcher starts it),
    // else on Vert.x's own (NIO).
    Object transport = overrides.get(BalancerSettings.TRANSPORT);
    balancerNode =
        registry
            .clusters()
            .start(
                ClusterRole.LITE, transport == null ? null : Transports.choose((String) transport));
    certificates = TestCertificates.create(dir.resolve("certs"));
    cert = certificates.issue("localhost", "127.0.0.1");
    deployBalancer();
  }

  /**
   * Deploys the balancer on ports found free just before: a port probed free can be taken by any
   * outgoing connection's ephemeral port (Hazelcast makes many) before the balancer binds it, so a
   * bind failure is retried on new ports, a bounded number of times.
   */
  private void deployBalancer() {
    for (int attempt = 1; ; attempt++) {
      int[] ports = distinctFreePorts(3);
      httpsPort = ports[0];
      httpPort = ports[1];
      adminPort = ports[2];
      balancer =
          new BalancerVerticle(
              config(balancerNode, httpsPort, httpPort, adminPort, "balancer", overrides),
              balancerNode);
      try {
        await(balancerNode.vertx().deployVerticle(balancer));
        return;
      } catch (IllegalStateException e) {
        if (attempt == 3 || !isBindFailure(e)) {
          throw e;
        }
      }
    }
  }

  /**
   * Free ports, all different: the system may hand out one port twice to sockets opened one after
   * the other, and two of the balancer's listeners on one port do not fail to bind but share it (a
   * Vert.x server shares an address already bound in the same Vert.x), so that TLS handshakes then
   * met the plain HTTP listener now and then.
   */
  private static int[] distinctFreePorts(int count) {
    java.util.Set<Integer> ports = new java.util.LinkedHashSet<>();
    while (ports.size() < count) {
      ports.add(TestClusters.freePort());
    }
    return ports.stream().mapToInt(Integer::intValue).toArray();
  }

  private static boolean isBindFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.net.BindException) {
        return true;
      }
    }
    return false;
  }

  /** Another balancer of the same cluster, on a node and ports of its own. */
  public record Extra(
      TellerCluster node, BalancerVerticle verticle, int httpsPort, int adminPort) {}

  /** Starts another balancer (a lite member of its own); it is stopped by {@link #close()}. */
  public Extra startBalancer(String name) {
    return startBalancer(name, Map.of());
  }

  /** Starts another balancer with {@code extra} settings on top of the test defaults. */
  public Extra startBalancer(String name, Map<Setting, Object> extra) {
    TellerCluster node = registry.clusters().start(ClusterRole.LITE);
    int[] ports = distinctFreePorts(3);
    int https = ports[0];
    int admin = ports[2];
    BalancerVerticle verticle =
        new BalancerVerticle(config(node, https, ports[1], admin, name, extra), node);
    await(node.vertx().deployVerticle(verticle));
    return new Extra(node, verticle, https, admin);
  }

  /** A lite member of the cluster for the test's own use; stopped by {@link #close()}. */
  public TellerCluster startMember() {
    return registry.clusters().start(ClusterRole.LITE);
  }

  /** Stops a balancer's node cleanly, as a balancer process that is shut down. */
  public void stop(Extra extra) {
    registry.clusters().stop(extra.node());
  }

  private TellerConfig config(
      TellerCluster node,
      int httpsPort,
      int httpPort,
      int adminPort,
      String name,
      Map<Setting, Object> extra) {
    Map<Setting, Object> values = new LinkedHashMap<>();
    values.put(CommonSettings.CLUSTER_NAME, registry.clusters().name());
    values.put(CommonSettings.CLUSTER_MEMBERS, registry.clusters().members());
    values.put(CommonSettings.CLUSTER_HOST, "127.0.0.1");
    values.put(CommonSettings.CLUSTER_PORT, node.options().port());
    values.put(CommonSettings.LISTEN_HOST, "127.0.0.1");
    values.put(CommonSettings.DATA_DIR, dir.resolve(name));
    values.put(BalancerSettings.HTTPS_PORT, httpsPort);
    values.put(BalancerSettings.HTTP_PORT, httpPort);
    values.put(BalancerSettings.HTTP_REDIRECT, redirectHttp);
    values.put(BalancerSettings.TLS_CERT, cert.certPath().toString());
    values.put(BalancerSettings.TLS_KEY, cert.keyPath().toString());
    values.put(BalancerSettings.ADMIN_PORT, adminPort);
    values.put(BalancerSettings.ADMIN_HOST, "");
    // The registry's token: Http's writes carry it to both.
    values.put(BalancerSettings.API_TOKEN, RegistryNodes.TOKEN);
    values.put(BalancerSettings.INSTANCES, 2);
    values.put(BalancerSettings.RECONCILE_MS, 2_000);
    values.put(BalancerSettings.COUNTS_DELAY_MS, 10);
    values.put(BalancerSettings.CONNECT_TIMEOUT_MS, 2_000);
    values.put(BalancerSettings.RESPONSE_TIMEOUT_MS, 3_000);
    values.put(BalancerSettings.IDLE_TIMEOUT_MS, 60_000);
    values.put(BalancerSettings.CLIENT_IDLE_TIMEOUT_MS, 120_000);
    values.put(BalancerSettings.RETRIES, 2);
    values.put(BalancerSettings.RETRY_BUDGET_PERCENT, 20);
    values.put(BalancerSettings.RETRY_BUDGET_MIN_PER_SECOND, 10);
    values.put(BalancerSettings.EJECT_CONNECT_FAILURES, 1);
    values.put(BalancerSettings.EJECT_SERVER_ERRORS, 5);
    values.put(BalancerSettings.ACCESS_LOG, false);
    values.put(BalancerSettings.TCP_LISTENERS, java.util.List.of());
    values.put(BalancerSettings.TCP_IDLE_TIMEOUT_MS, 0);
    values.put(BalancerSettings.TCP_HELLO_TIMEOUT_MS, 2_000);
    values.put(BalancerSettings.HTTP_MAX_REQUEST_LINE_BYTES, 8192);
    values.put(BalancerSettings.HTTP_MAX_HEADER_BYTES, 32768);
    values.put(BalancerSettings.HTTP_MAX_HEADER_FIELDS, 100);
    values.put(BalancerSettings.HTTP_REQUEST_HEADER_TIMEOUT_MS, 10_000);
    values.put(BalancerSettings.HTTP_MAX_CONNECTIONS, 10_000);
    values.put(BalancerSettings.HTTP_PATH_ALLOW_ENCODED_SEPARATORS, false);
    values.put(BalancerSettings.PROXY_TRUSTED_CIDRS, java.util.List.of());
    values.putAll(extra);
    return TellerConfig.of(values);
  }

  public static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public TestCertificates certificates() {
    return certificates;
  }

  public int httpsPort() {
    return httpsPort;
  }

  public int httpPort() {
    return httpPort;
  }

  public int adminPort() {
    return adminPort;
  }

  /** The network transport the balancer runs on: {@code nio}, {@code io_uring}, {@code epoll}. */
  public String transport() {
    return Transports.inUse(balancerNode.vertx());
  }

  public BalancerVerticle balancer() {
    return balancer;
  }

  public RegistryNodes.Node registry() {
    return registryNode;
  }

  public Vertx backendVertx() {
    return backendVertx;
  }

  /** Starts a backend on a free port with the given handler; returns its port. */
  public int backend(Consumer<HttpServerRequest> handler) {
    HttpServer server =
        await(
            backendVertx.createHttpServer().requestHandler(handler::accept).listen(0, "127.0.0.1"));
    synchronized (backends) {
      backends.add(server);
    }
    return server.actualPort();
  }

  /** Stops the backend on {@code port}, its open connections with it: the instance dies. */
  public void stopBackend(int port) {
    HttpServer server;
    synchronized (backends) {
      server = backends.stream().filter(s -> s.actualPort() == port).findFirst().orElseThrow();
      backends.remove(server);
    }
    await(server.close());
  }

  /** A backend that answers its own name and echoes the request's headers as JSON. */
  public int namedBackend(String name) {
    return backend(
        request -> {
          JsonObject headers = new JsonObject();
          request.headers().forEach(h -> headers.put(h.getKey().toLowerCase(), h.getValue()));
          request
              .body()
              .onSuccess(
                  body ->
                      request
                          .response()
                          .putHeader("content-type", "application/json")
                          .putHeader("x-backend", name)
                          .end(
                              new JsonObject()
                                  .put("backend", name)
                                  .put("uri", request.uri())
                                  .put("method", request.method().name())
                                  .put("headers", headers)
                                  .put("bodyLength", body.length())
                                  .encode()));
        });
  }

  /** Defines a service through the registry's REST API. */
  public void defineService(String name, String json) {
    Http.Response response = Http.put(registryNode.url("/v1/services/" + name), json);
    if (response.status() >= 300) {
      throw new IllegalStateException(response.status() + " " + response.body());
    }
  }

  /** Registers an instance through the registry's REST API; returns its id. */
  public String register(String service, int port, int weight) {
    Http.Response response =
        Http.post(
            registryNode.url("/v1/services/" + service + "/instances"),
            new JsonObject()
                .put("host", "127.0.0.1")
                .put("port", port)
                .put("weight", weight)
                .encode());
    if (response.status() >= 300) {
      throw new IllegalStateException(response.status() + " " + response.body());
    }
    return response.json().getString("id");
  }

  /**
   * Waits until the balancer picks among every one of {@code ids} (its {@code /counts} lists them):
   * a first answer through it only says that one instance has arrived.
   */
  public void awaitInstances(String... ids) throws Exception {
    Poll.until(
        Duration.ofSeconds(10),
        () ->
            assertThat(
                    Http.get("http://127.0.0.1:" + adminPort + "/counts")
                        .json()
                        .getJsonObject("instances")
                        .fieldNames())
                .contains(ids));
  }

  public void remove(String service, String id) {
    Http.delete(registryNode.url("/v1/services/" + service + "/instances/" + id + "?drain=0"));
  }

  @Override
  public void close() {
    try {
      await(backendVertx.close());
    } finally {
      registry.close();
    }
  }
}
