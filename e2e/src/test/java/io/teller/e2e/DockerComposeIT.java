package io.teller.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.common.testing.OnContext;
import io.teller.common.testing.Poll;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * docker-compose.yml run for real, the way the README tells a user to: the image built from the
 * Dockerfile, real containers on a real Docker engine, cluster members found by host name, traffic
 * through the published ports on 127.0.0.1. The tests run in order, as one story; without an engine
 * the class is skipped and says why.
 */
@Timeout(value = 20, unit = TimeUnit.MINUTES)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DockerComposeIT {

  static final Path ROOT = Path.of(System.getProperty("teller.root", "..")).toAbsolutePath();
  static final Path FIGURES = Path.of("target", "docker-compose-figures.txt");
  static final String TOKEN = UUID.randomUUID().toString();
  static Compose compose;
  static Vertx vertx;
  static HttpClient client;
  static int https;
  static int registry;
  static final List<String> figures = new ArrayList<>();

  @BeforeAll
  static void start() {
    StringBuilder why = new StringBuilder();
    Optional<List<String>> command = Compose.detect(why);
    Assumptions.assumeTrue(command.isPresent(), () -> "DockerComposeIT skipped: " + why);
    String project = "teller-it-" + UUID.randomUUID().toString().substring(0, 8);
    compose =
        Compose.of(
            command.get(),
            ROOT,
            project,
            Map.of(
                "TELLER_API_TOKEN", TOKEN,
                "TELLER_IMAGE", project + ":latest",
                // Every published port on loopback, chosen by Docker: parallel-safe.
                "TELLER_PUBLISH_HTTPS", "127.0.0.1:",
                "TELLER_PUBLISH_HTTP", "127.0.0.1:",
                "TELLER_PUBLISH_ADMIN", "127.0.0.1:",
                "TELLER_PUBLISH_REGISTRY", "127.0.0.1:"));
    vertx = Vertx.vertx();
    client =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setSsl(true)
                .setTrustAll(true)
                .setVerifyHost(false)
                .setConnectTimeout(5_000),
            new PoolOptions().setHttp1MaxSize(16));
  }

  /** What the services said during each step, for whoever reads a failure. */
  @AfterEach
  void saveLogs(TestInfo test) throws Exception {
    if (Load.current != null) {
      Load.current.stop();
    }
    compose.saveLogs(
        Path.of(
            "target",
            "docker-compose-logs",
            test.getTestMethod().map(m -> m.getName()).orElse("step") + ".log"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (compose == null) {
      return;
    }
    try {
      compose.run(Duration.ofMinutes(3), "down", "-v", "--remove-orphans", "-t", "5");
      compose.docker(Duration.ofMinutes(1), "image", "rm", "-f", compose.project() + ":latest");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      Files.createDirectories(FIGURES.getParent());
      Files.write(FIGURES, figures);
    }
  }

  @Test
  @Order(1)
  void upBuildBringsUpOneClusterAndTheBalancerReachesEveryBackend() throws Exception {
    long buildStart = System.nanoTime();
    compose.run(Duration.ofMinutes(10), "build");
    figure("image build", millisSince(buildStart) + " ms");
    String size =
        compose.docker(
            Duration.ofSeconds(30),
            "image",
            "inspect",
            "-f",
            "{{.Size}}",
            compose.project() + ":latest");
    figure("image size", Long.parseLong(size.trim()) / 1_000_000 + " MB");

    long up = System.nanoTime();
    compose.run(Duration.ofMinutes(5), "up", "-d", "--build");
    https = compose.port("balancer", 8443);
    registry = compose.port("registry", 9000);

    Poll.until(Duration.ofSeconds(60), () -> get("/"));
    figure("up -> first answer through the balancer", millisSince(up) + " ms");
    Set<String> seen = new HashSet<>();
    Poll.until(
        Duration.ofSeconds(60).minusMillis(millisSince(up)),
        () -> {
          seen.add(get("/").getString("instance"));
          assertThat(seen).hasSize(3);
        });
    long allThree = millisSince(up);
    figure("up -> all three backends answered", allThree + " ms");
    assertThat(allThree).isLessThan(60_000);
    // One cluster: every backend registered itself over the event bus (it joined by host name).
    assertThat(instances("sample")).hasSize(3);
  }

  @Test
  @Order(2)
  void scaledToFiveEveryBackendIsReachedAndBackToTwoTheExtraOnesDrainWithNoFailedRequest()
      throws Exception {
    compose.run(Duration.ofMinutes(3), "up", "-d", "--no-build", "--scale", "sample-backend=5");
    awaitBackendsReached(5, Duration.ofSeconds(90));

    Load load = Load.start(4);
    compose.run(Duration.ofMinutes(3), "up", "-d", "--no-build", "--scale", "sample-backend=2");
    load.runFor(Duration.ofSeconds(3));
    Load.Result result = load.stop();
    figure("scale 5 -> 2 under load", result.toString());
    assertThat(result.failures()).as(result.toString()).isEmpty();
    assertThat(result.ok()).isGreaterThan(50);
    Poll.until(Duration.ofSeconds(30), () -> assertThat(instances("sample")).hasSize(2));
    awaitBackendsReached(2, Duration.ofSeconds(30));
  }

  @Test
  @Order(3)
  void aBackendKilledUnderLoadFailsNoGet() throws Exception {
    compose.run(Duration.ofMinutes(3), "up", "-d", "--no-build", "--scale", "sample-backend=3");
    awaitBackendsReached(3, Duration.ofSeconds(90));
    String victim = compose.containers("sample-backend").get(0);
    String address =
        compose
            .docker(
                Duration.ofSeconds(30),
                "inspect",
                "-f",
                "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                victim)
            .trim();

    Load load = Load.start(4);
    load.runFor(Duration.ofSeconds(2));
    compose.docker(Duration.ofSeconds(30), "kill", victim);
    long killed = System.nanoTime();
    load.runFor(Duration.ofSeconds(8));
    Load.Result result = load.stop();
    figure("docker kill of a backend under load", result.toString());
    assertThat(result.failures()).as(result.toString()).isEmpty();
    assertThat(result.ok()).isGreaterThan(50);
    // Its registration goes with it: it left the cluster.
    Poll.until(
        Duration.ofSeconds(30),
        () ->
            assertThat(instances("sample").stream().map(i -> ((JsonObject) i).getString("host")))
                .doesNotContain(address));
    figure("killed backend gone from the registry after", millisSince(killed) + " ms (at most)");
  }

  @Test
  @Order(4)
  void restartingTheRegistryLosesNothingAndNewBackendsStillRegister() throws Exception {
    defineLegacyService();
    int backends = compose.containers("sample-backend").size();

    Load load = Load.start(2);
    long restart = System.nanoTime();
    compose.run(Duration.ofMinutes(3), "restart", "registry");
    registry = compose.port("registry", 9000);
    Poll.until(Duration.ofSeconds(60), () -> assertThat(legacyInstances()).hasSize(1));
    figure("registry restart -> its API answers with the state", millisSince(restart) + " ms");
    Poll.until(Duration.ofSeconds(90), () -> assertThat(instances("sample")).hasSize(backends));
    figure("registry restart -> every backend registered again", millisSince(restart) + " ms");
    Load.Result result = load.stop();
    figure("traffic while the registry restarted", result.toString());
    assertThat(result.failures()).as(result.toString()).isEmpty();

    // A backend started after the restart joins the cluster and gets traffic.
    Set<String> before = ids(instances("sample"));
    compose.run(
        Duration.ofMinutes(3),
        "up",
        "-d",
        "--no-build",
        "--scale",
        "sample-backend=" + (backends + 1));
    Poll.until(Duration.ofSeconds(90), () -> assertThat(instances("sample")).hasSize(backends + 1));
    Set<String> added = ids(instances("sample"));
    added.removeAll(before);
    Set<String> seen = new HashSet<>();
    Poll.until(
        Duration.ofSeconds(30),
        () -> {
          seen.add(get("/").getString("instance"));
          assertThat(seen).containsAll(added);
        });
    // The static instance, a compose host name, is served through its route.
    assertThat(get("/legacy/").getString("service")).isEqualTo("sample");
  }

  @Test
  @Order(5)
  void downThenUpKeepsTheServicesDefinedOverRest() throws Exception {
    compose.run(Duration.ofMinutes(3), "down");
    assertThat(compose.containers("registry")).isEmpty();
    long up = System.nanoTime();
    compose.run(Duration.ofMinutes(5), "up", "-d", "--no-build");
    https = compose.port("balancer", 8443);
    registry = compose.port("registry", 9000);
    Poll.until(Duration.ofSeconds(60), () -> assertThat(legacyInstances()).hasSize(1));
    Poll.until(
        Duration.ofSeconds(60),
        () -> assertThat(get("/legacy/").getString("service")).isEqualTo("sample"));
    figure("down, up -> the REST-defined service answers", millisSince(up) + " ms");
    awaitBackendsReached(3, Duration.ofSeconds(60));
  }

  @Test
  @Order(6)
  void downWithVolumesLeavesNothing() {
    compose.run(Duration.ofMinutes(3), "down", "-v");
    assertThat(compose.leftovers()).isEmpty();
  }

  // --- the story's steps ---

  /** A service defined over REST, with a static instance: the compose name of the backends. */
  static void defineLegacyService() {
    String api = "http://127.0.0.1:" + registry + "/v1/services/legacy";
    assertThat(
            Http.put(
                api,
                TOKEN,
                new JsonObject()
                    .put(
                        "routes",
                        new JsonArray().add(new JsonObject().put("pathPrefix", "/legacy")))
                    .put("stripPrefix", true)))
        .isIn(200, 201);
    assertThat(
            Http.post(
                api + "/instances",
                TOKEN,
                new JsonObject().put("host", "sample-backend").put("port", 8080)))
        .isIn(200, 201);
  }

  static JsonArray legacyInstances() {
    return instances("legacy");
  }

  static JsonArray instances(String service) {
    var response =
        Http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:" + registry + "/v1/services/" + service + "/instances"))
                .GET());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return new JsonArray(response.body());
  }

  static Set<String> ids(JsonArray instances) {
    Set<String> ids = new HashSet<>();
    instances.forEach(i -> ids.add(((JsonObject) i).getString("id")));
    return ids;
  }

  static void awaitBackendsReached(int count, Duration within) throws Exception {
    Poll.until(within, () -> assertThat(instances("sample")).hasSize(count));
    Set<String> registered = ids(instances("sample"));
    Set<String> seen = new HashSet<>();
    Poll.until(
        within,
        () -> {
          seen.add(get("/").getString("instance"));
          assertThat(seen).containsAll(registered);
        });
  }

  static JsonObject get(String uri) throws Exception {
    return call(uri).toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  static Future<JsonObject> call(String uri) {
    return OnContext.run(
        vertx,
        () ->
            client
                .request(
                    new RequestOptions()
                        .setHost("127.0.0.1")
                        .setPort(https)
                        .setURI(uri)
                        .setIdleTimeout(15_000))
                .compose(r -> r.send())
                .compose(
                    r ->
                        r.body()
                            .map(
                                b -> {
                                  if (r.statusCode() != 200) {
                                    throw new IllegalStateException(
                                        r.statusCode() + " " + b.toString().trim());
                                  }
                                  return b.toJsonObject();
                                })));
  }

  static long millisSince(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }

  static void figure(String what, String value) {
    figures.add(what + ": " + value);
  }

  /** Closed-loop GETs through the balancer on a few connections, bounded in time. */
  static final class Load {
    record Result(int ok, Map<String, Integer> failures) {
      @Override
      public String toString() {
        return ok
            + " requests answered 200, "
            + failures.values().stream().mapToInt(i -> i).sum()
            + " failed "
            + failures;
      }
    }

    private static final Duration LIMIT = Duration.ofMinutes(5);
    static Load current;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger ok = new AtomicInteger();
    private final Map<String, Integer> failures = new ConcurrentHashMap<>();
    private final List<Future<Void>> loops = new ArrayList<>();
    private final long deadline = System.nanoTime() + LIMIT.toNanos();

    static Load start(int clients) {
      Load load = new Load();
      current = load;
      for (int i = 0; i < clients; i++) {
        Promise<Void> done = Promise.promise();
        vertx.runOnContext(v -> load.loop(done));
        load.loops.add(done.future());
      }
      return load;
    }

    private void loop(Promise<Void> done) {
      if (!running.get() || System.nanoTime() > deadline) {
        done.complete();
        return;
      }
      call("/")
          .onComplete(
              r -> {
                if (r.succeeded()) {
                  ok.incrementAndGet();
                } else {
                  failures.merge(String.valueOf(r.cause().getMessage()), 1, Integer::sum);
                }
                loop(done);
              });
    }

    /**
     * Lets the load run this long more (the test's clock, not a pause standing in for an event).
     */
    void runFor(Duration duration) throws InterruptedException {
      Thread.sleep(duration.toMillis());
    }

    Result stop() throws Exception {
      Load.current = null;
      running.set(false);
      Future.all(loops).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      return new Result(ok.get(), Map.copyOf(failures));
    }
  }
}
