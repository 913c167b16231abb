package io.teller.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.common.testing.Poll;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The teller test, the showcase of shared least-connection counts: a bank hall with three teller
 * windows (backends serving one request at a time, 20 ms each), three ticket machines (balancers,
 * separate processes) and one closed-loop client per machine. With perfect balancing nobody ever
 * waits. The same hall is run with the counts shared between balancers and without.
 */
@Timeout(300)
class TellerHallIT {

  private static final Logger LOG = LoggerFactory.getLogger(TellerHallIT.class);
  static final int WORK_MS = 20;
  static final long SECONDS = Long.getLong("teller.hall.seconds", 10);

  @TempDir static Path dir;
  static LocalStack stack;
  static List<LocalStack.Balancer> balancers = new ArrayList<>();
  static List<LocalStack.Backend> tellers = new ArrayList<>();
  static Vertx vertx;
  static HttpClient client;

  /** What one run measured. */
  record Result(
      String mode, long requests, long waited, double seconds, long p50Micros, long p99Micros) {
    double waitingFraction() {
      return requests == 0 ? 1 : (double) waited / requests;
    }

    @Override
    public String toString() {
      return String.format(
          "sharing %-3s: %d requests, %.1f%% had to wait, p50 %.1f ms, p99 %.1f ms, %.0f req/s",
          mode,
          requests,
          100 * waitingFraction(),
          p50Micros / 1000.0,
          p99Micros / 1000.0,
          requests / seconds);
    }
  }

  @BeforeAll
  static void start() throws Exception {
    stack = new LocalStack(dir);
    stack.startRegistry();
    for (String mode : List.of("on", "off")) {
      int status =
          Http.put(
              stack.registryUrl("/v1/services/hall-" + mode),
              LocalStack.TOKEN,
              new JsonObject()
                  .put("routes", List.of(Map.of("pathPrefix", "/" + mode)))
                  .put("stripPrefix", true)
                  .put("strategy", "least-connections")
                  .put("sharedCounts", mode.equals("on")));
      assertThat(status).isEqualTo(201);
    }
    List<Thread> starting = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      String name = "balancer-" + i;
      starting.add(
          startThread(
              () -> {
                try {
                  LocalStack.Balancer b =
                      stack.startBalancer(name, Map.of("TELLER_PROXY_INSTANCES", "1"));
                  synchronized (balancers) {
                    balancers.add(b);
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }));
      String teller = "teller-" + i;
      starting.add(
          startThread(
              () -> {
                try {
                  LocalStack.Backend b =
                      stack.startBackend(
                          teller,
                          Map.of("TELLER_SERVICE", "hall-on", "TELLER_BACKEND_CONCURRENCY", "1"));
                  synchronized (tellers) {
                    tellers.add(b);
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }));
    }
    for (Thread t : starting) {
      t.join();
    }
    assertThat(balancers).hasSize(3);
    assertThat(tellers).hasSize(3);
    // The same three windows serve the "off" hall too, registered over REST.
    for (LocalStack.Backend teller : tellers) {
      Http.post(
          stack.registryUrl("/v1/services/hall-off/instances"),
          LocalStack.TOKEN,
          new JsonObject().put("host", "127.0.0.1").put("port", teller.port()));
    }
    vertx = Vertx.vertx();
    PemTrustOptions trust = new PemTrustOptions();
    for (int i = 1; i <= 3; i++) {
      trust.addCertPath(stack.certificateOf("balancer-" + i).toString());
    }
    client =
        vertx.createHttpClient(
            new HttpClientOptions().setSsl(true).setTrustOptions(trust).setKeepAlive(true),
            new PoolOptions().setHttp1MaxSize(4));
    // Every balancer routes both halls to all three windows.
    Poll.until(
        Duration.ofSeconds(20),
        () -> {
          for (LocalStack.Balancer b : balancers) {
            for (String mode : List.of("on", "off")) {
              JsonObject counts = Http.getJson("http://127.0.0.1:" + b.adminPort() + "/counts");
              assertThat(get(b, "/" + mode + "/work?ms=0")).isEqualTo(200);
              assertThat(counts.getJsonObject("instances").size()).isGreaterThanOrEqualTo(3);
            }
          }
        });
  }

  private static Thread startThread(Runnable task) {
    Thread thread = new Thread(task, "start-process");
    thread.start();
    return thread;
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    stack.close();
  }

  static int get(LocalStack.Balancer b, String uri) throws Exception {
    return io.teller.common.testing.OnContext.run(
            vertx,
            () ->
                client
                    .request(
                        new RequestOptions()
                            .setHost("127.0.0.1")
                            .setPort(b.httpsPort())
                            .setURI(uri))
                    .compose(r -> r.send())
                    .compose(r -> r.body().map(x -> r.statusCode())))
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  static long[] stats() {
    long served = 0;
    long waited = 0;
    for (LocalStack.Backend teller : tellers) {
      JsonObject stats = Http.getJson("http://127.0.0.1:" + teller.port() + "/stats");
      served += stats.getLong("served");
      waited += stats.getLong("waited");
    }
    return new long[] {served, waited};
  }

  static Result run(String mode, long seconds) throws Exception {
    long[] before = stats();
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    List<Future<List<Long>>> loops = new ArrayList<>();
    long started = System.nanoTime();
    for (LocalStack.Balancer b : balancers) {
      Promise<List<Long>> done = Promise.promise();
      vertx.runOnContext(
          v -> loop(b, "/" + mode + "/work?ms=" + WORK_MS, until, new ArrayList<>(), done));
      loops.add(done.future());
    }
    Future.all(loops).toCompletionStage().toCompletableFuture().get(seconds + 30, TimeUnit.SECONDS);
    double elapsed = (System.nanoTime() - started) / 1e9;
    long[] after = stats();
    long[] latencies =
        loops.stream().flatMap(f -> f.result().stream()).mapToLong(Long::longValue).toArray();
    Arrays.sort(latencies);
    Result result =
        new Result(
            mode,
            after[0] - before[0],
            after[1] - before[1],
            elapsed,
            latencies[latencies.length / 2] / 1000,
            latencies[(int) (latencies.length * 0.99)] / 1000);
    LOG.info("teller test: {}", result);
    return result;
  }

  /** One closed-loop client: the next request goes when the last is answered. */
  static void loop(
      LocalStack.Balancer b,
      String uri,
      long until,
      List<Long> latencies,
      Promise<List<Long>> done) {
    if (System.nanoTime() >= until) {
      done.complete(latencies);
      return;
    }
    long sent = System.nanoTime();
    client
        .request(
            new RequestOptions()
                .setMethod(HttpMethod.GET)
                .setHost("127.0.0.1")
                .setPort(b.httpsPort())
                .setURI(uri))
        .compose(r -> r.send())
        .compose(r -> r.body().map(x -> r.statusCode()))
        .onComplete(
            r -> {
              if (r.failed() || r.result() != 200) {
                done.fail(
                    r.failed() ? r.cause() : new IllegalStateException("status " + r.result()));
                return;
              }
              latencies.add((System.nanoTime() - sent) / 1000 * 1000);
              loop(b, uri, until, latencies, done);
            });
  }

  @Test
  void sharedCountsCutTheWaitingAtLeastThreefold() throws Exception {
    // A cold JVM is slow for its first seconds: warm every process on both paths, unmeasured.
    run("off", 4);
    run("on", 4);
    Result off = run("off", SECONDS);
    Result on = run("on", SECONDS);
    LOG.info("teller test summary: {} | {}", on, off);
    for (LocalStack.Balancer b : balancers) {
      LOG.info(
          "teller test: peer counts' staleness at balancer {}: {} ms",
          b.adminPort(),
          Http.getJson("http://127.0.0.1:" + b.adminPort() + "/counts")
              .getJsonObject("peerStalenessMillis"));
    }
    assertThat(on.requests()).isGreaterThan(SECONDS * 30);
    // The threefold cut. (Under 10% is the benchmark's bar: measured ~5% on a quiet 2-core
    // machine, but a busy CI machine adds stalls that no balancing can avoid.)
    assertThat(on.waitingFraction() * 3).isLessThanOrEqualTo(off.waitingFraction());
  }
}
