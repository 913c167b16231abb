package io.teller.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.common.testing.Poll;
import io.teller.common.testing.TellerProcess;
import io.teller.common.testing.TestClusters;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * More than docker-compose.yml runs: two registries, two balancers and three backends as local
 * processes, with the services' commands and environment read from the compose file, members given
 * by the host name {@code localhost}, free ports. It covers what one registry cannot show (losing
 * the leading registry node); {@link DockerComposeIT} runs the compose file itself in containers.
 * The tests run in order, as one story.
 */
@Timeout(300)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MultiNodeTopologyIT {

  @TempDir static Path dir;
  static Map<String, Map<String, String>> compose;
  static String cluster = "compose-" + UUID.randomUUID().toString().substring(0, 8);
  static int seed = TestClusters.freePort();
  static final List<TellerProcess> all = new ArrayList<>();
  static final Map<TellerProcess, String> names = new HashMap<>();
  static final List<Integer> registryPorts = new ArrayList<>();
  static final List<Integer> registryClusterPorts = new ArrayList<>();
  static final List<TellerProcess> registries = new ArrayList<>();
  static final List<int[]> balancers = new ArrayList<>(); // {httpsPort, adminPort}
  static final Map<String, TellerProcess> backends = new HashMap<>(); // instance id -> process
  static int backendCount;
  static Vertx vertx;
  static HttpClient client;

  @SuppressWarnings("unchecked")
  static Map<String, Map<String, String>> readCompose() throws Exception {
    Path file = Path.of(System.getProperty("teller.root", "..")).resolve("docker-compose.yml");
    Map<String, Object> doc;
    try (Reader in = Files.newBufferedReader(file)) {
      doc = new Yaml().load(in);
    }
    Map<String, Map<String, String>> services = new HashMap<>();
    Map<String, Object> all = (Map<String, Object>) doc.get("services");
    for (String name : List.of("registry", "balancer", "sample-backend")) {
      Map<String, Object> service = (Map<String, Object>) all.get(name);
      assertThat((List<String>) service.get("command")).containsExactly(name);
      Map<String, String> env = new HashMap<>();
      ((Map<String, Object>) service.get("environment"))
          .forEach((k, v) -> env.put(k, substitute(String.valueOf(v))));
      services.put(name, env);
    }
    return services;
  }

  /** {@code ${NAME:-default}} as docker compose expands it, from an empty environment. */
  static String substitute(String value) {
    Matcher m = Pattern.compile("\\$\\{[A-Z_]+:-([^}]*)}").matcher(value);
    return m.replaceAll(r -> Matcher.quoteReplacement(r.group(1)));
  }

  /** A compose service's environment, as this machine runs it: names are localhost, ports free. */
  static Map<String, String> env(String service, String name, int clusterPort) {
    Map<String, String> env = new HashMap<>(compose.get(service));
    env.put("TELLER_CLUSTER_NAME", cluster);
    assertThat(env.get("TELLER_CLUSTER_MEMBERS")).isEqualTo("registry");
    // "registry" resolves to every registry container under compose: here, every registry's port.
    List<String> members = new ArrayList<>(List.of("localhost:" + seed));
    registryClusterPorts.forEach(port -> members.add("localhost:" + port));
    members.add("localhost:" + clusterPort);
    env.put("TELLER_CLUSTER_MEMBERS", String.join(",", members.stream().distinct().toList()));
    env.put("TELLER_CLUSTER_PORT", String.valueOf(clusterPort));
    env.put("TELLER_CLUSTER_HOST", "127.0.0.1");
    env.put("TELLER_LISTEN_HOST", "127.0.0.1");
    env.put("TELLER_DATA_DIR", dir.resolve(name).toString());
    return env;
  }

  static TellerProcess start(String service, Map<String, String> env) {
    TellerProcess p = TellerProcess.start(TellerProcess.programJar(service), env);
    synchronized (all) {
      all.add(p);
      names.put(p, Path.of(env.get("TELLER_DATA_DIR")).getFileName().toString());
    }
    return p;
  }

  static void startRegistry(int clusterPort) throws Exception {
    int api = TestClusters.freePort();
    Map<String, String> env = env("registry", "registry-" + registries.size(), clusterPort);
    env.put("TELLER_REGISTRY_PORT", String.valueOf(api));
    TellerProcess p = start("registry", env);
    p.awaitLine("registry ready", Duration.ofSeconds(60));
    registries.add(p);
    registryClusterPorts.add(clusterPort);
    registryPorts.add(api);
  }

  static void startBalancer() throws Exception {
    int https = TestClusters.freePort();
    int admin = TestClusters.freePort();
    Map<String, String> env =
        env("balancer", "balancer-" + balancers.size(), TestClusters.freePort());
    env.put("TELLER_HTTPS_PORT", String.valueOf(https));
    env.put("TELLER_HTTP_PORT", String.valueOf(TestClusters.freePort()));
    env.put("TELLER_ADMIN_PORT", String.valueOf(admin));
    start("balancer", env).awaitLine("balancer ready", Duration.ofSeconds(60));
    balancers.add(new int[] {https, admin});
  }

  /** Starts a backend; returns its instance id once it registered. */
  static String startBackend() throws Exception {
    Map<String, String> env =
        env("sample-backend", "backend-" + (++backendCount), TestClusters.freePort());
    env.put("TELLER_BACKEND_PORT", "0");
    env.put("TELLER_BACKEND_DRAIN_MS", "3000");
    TellerProcess p = start("sample-backend", env);
    String id = p.awaitLine("registered as (\\S+) in service", Duration.ofSeconds(60)).group(1);
    synchronized (backends) {
      backends.put(id, p);
    }
    return id;
  }

  @BeforeAll
  static void start() throws Exception {
    compose = readCompose();
    startRegistry(seed);
    startRegistry(TestClusters.freePort());
    startBalancer();
    startBalancer();
    for (int i = 0; i < 3; i++) {
      startBackend();
    }
    vertx = Vertx.vertx();
    PemTrustOptions trust = new PemTrustOptions();
    for (int i = 0; i < balancers.size(); i++) {
      trust.addCertPath(
          dir.resolve("balancer-" + i).resolve("tls").resolve("localhost-cert.pem").toString());
    }
    client =
        vertx.createHttpClient(
            new HttpClientOptions().setSsl(true).setTrustOptions(trust),
            new PoolOptions().setHttp1MaxSize(16));
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    List<TellerProcess> copy;
    synchronized (all) {
      copy = new ArrayList<>(all);
    }
    Path logs = Path.of("target", "multi-node-topology-logs");
    Files.createDirectories(logs);
    for (TellerProcess p : copy) {
      p.close();
      // What each process said, for whoever reads a failure.
      Files.writeString(logs.resolve(names.get(p) + ".log"), p.output());
    }
  }

  static Future<JsonObject> get(int httpsPort) {
    return io.teller.common.testing.OnContext.run(
        vertx,
        () ->
            client
                .request(new RequestOptions().setHost("127.0.0.1").setPort(httpsPort).setURI("/"))
                .compose(r -> r.send())
                .compose(
                    r ->
                        r.body()
                            .map(
                                b -> {
                                  if (r.statusCode() != 200) {
                                    throw new IllegalStateException(r.statusCode() + " " + b);
                                  }
                                  return b.toJsonObject();
                                })));
  }

  static Set<String> instancesAnswering(int httpsPort, int requests) throws Exception {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < requests; i++) {
      seen.add(
          get(httpsPort)
              .toCompletionStage()
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS)
              .getString("instance"));
    }
    return seen;
  }

  /** Bounded closed-loop load over both balancers; counts failures. */
  static Future<int[]> load(Duration duration, int clients) {
    long until = System.nanoTime() + duration.toNanos();
    AtomicInteger ok = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    List<Future<Void>> loops = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int https = balancers.get(c % balancers.size())[0];
      Promise<Void> done = Promise.promise();
      vertx.runOnContext(v -> loop(https, until, ok, failed, done));
      loops.add(done.future());
    }
    return Future.all(loops).map(v -> new int[] {ok.get(), failed.get()});
  }

  static void loop(
      int https, long until, AtomicInteger ok, AtomicInteger failed, Promise<Void> done) {
    if (System.nanoTime() > until) {
      done.complete();
      return;
    }
    get(https)
        .onComplete(
            r -> {
              (r.succeeded() ? ok : failed).incrementAndGet();
              loop(https, until, ok, failed, done);
            });
  }

  static JsonArray registryInstances(int registry) {
    return new JsonArray(
        Http.send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(
                            "http://127.0.0.1:"
                                + registryPorts.get(registry)
                                + "/v1/services/sample/instances"))
                    .GET())
            .body());
  }

  @Test
  @Order(1)
  void requestsThroughEitherBalancerReachAllThreeBackends() throws Exception {
    Poll.until(
        Duration.ofSeconds(10),
        () -> {
          for (int[] balancer : balancers) {
            assertThat(instancesAnswering(balancer[0], 12)).hasSize(3);
          }
        });
  }

  @Test
  @Order(2)
  void eachBalancerServesPrometheusMetricsOfItsOwnAndOfVertx() {
    for (int[] balancer : balancers) {
      String metrics =
          Http.send(
                  java.net.http.HttpRequest.newBuilder(
                          java.net.URI.create("http://127.0.0.1:" + balancer[1] + "/metrics"))
                      .GET())
              .body();
      // The requests of the test before, by service and instance; the JVM's and Vert.x's meters.
      assertThat(metrics)
          .containsPattern(
              "teller_requests_total\\{instance=\"sample-[0-9a-f]+\",service=\"sample\",status_class=\"2xx\"} [1-9]");
      assertThat(metrics).contains("teller_request_duration_seconds_bucket{service=\"sample\"");
      assertThat(metrics).contains("jvm_memory_used_bytes");
      assertThat(metrics).contains("vertx_");
    }
  }

  @Test
  @Order(3)
  void scaledToFiveTheNewBackendsGetTrafficWithinTwoSeconds() throws Exception {
    String fourth = startBackend();
    String fifth = startBackend();
    long ready = System.nanoTime();
    Poll.until(
        Duration.ofSeconds(2),
        () -> {
          for (int[] balancer : balancers) {
            assertThat(instancesAnswering(balancer[0], 10)).contains(fourth, fifth);
          }
        });
    assertThat(Duration.ofNanos(System.nanoTime() - ready)).isLessThan(Duration.ofSeconds(3));
  }

  @Test
  @Order(4)
  void sigtermOfABackendUnderLoadFailsNoRequest() throws Exception {
    Future<int[]> result = load(Duration.ofSeconds(10), 4);
    Thread.sleep(2_000); // let the load run before the stop, as an operator would
    String victim = backends.keySet().iterator().next();
    TellerProcess process = backends.remove(victim);
    process.terminate(Duration.ofSeconds(20));
    int[] counts = result.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    assertThat(counts[0]).isGreaterThan(100);
    assertThat(counts[1]).isZero();
  }

  @Test
  @Order(5)
  void killOfABackendUnderLoadLeavesThePickSetWithin3sAndNoIdempotentRequestFails()
      throws Exception {
    Future<int[]> result = load(Duration.ofSeconds(8), 4);
    Thread.sleep(2_000); // let the load run before the crash
    String victim = backends.keySet().iterator().next();
    TellerProcess process = backends.remove(victim);
    long killedAt = System.nanoTime();
    process.kill();
    // Out of the pick set: ejected by the balancer itself, or removed by the registry.
    Poll.until(
        Duration.ofSeconds(3),
        () -> {
          for (int[] balancer : balancers) {
            JsonObject instances =
                Http.getJson("http://127.0.0.1:" + balancer[1] + "/counts")
                    .getJsonObject("instances");
            if (instances.containsKey(victim)) {
              assertThat(instances.getJsonObject(victim).getBoolean("ejected", false)).isTrue();
            }
          }
        });
    assertThat(Duration.ofNanos(System.nanoTime() - killedAt)).isLessThan(Duration.ofSeconds(3));
    int[] counts = result.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    assertThat(counts[0]).isGreaterThan(100);
    assertThat(counts[1]).isZero();
  }

  @Test
  @Order(6)
  void killOfARegistryKeepsEveryRegistrationAndNewBackendsGetTraffic() throws Exception {
    Set<String> before = new HashSet<>();
    registryInstances(1).forEach(o -> before.add(((JsonObject) o).getString("id")));
    assertThat(before).containsExactlyInAnyOrderElementsOf(backends.keySet());
    registries.get(0).kill();
    Poll.until(
        Duration.ofSeconds(10),
        () -> {
          Set<String> after = new HashSet<>();
          registryInstances(1).forEach(o -> after.add(((JsonObject) o).getString("id")));
          assertThat(after).isEqualTo(before);
        });
    String late = startBackend();
    Poll.until(
        Duration.ofSeconds(5),
        () -> {
          for (int[] balancer : balancers) {
            assertThat(instancesAnswering(balancer[0], 12)).contains(late);
          }
        });
  }
}
