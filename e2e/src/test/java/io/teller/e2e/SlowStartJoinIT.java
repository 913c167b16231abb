package io.teller.e2e;

import static org.assertj.core.api.Assertions.assertThat;

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
import io.vertx.core.net.PemTrustOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
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
 * A fourth backend joins three that are under steady load, as a cold JVM would: its first answers
 * take {@value #COLD_MS} ms more, tapering to nothing over {@value #WINDOW_MS} ms. The same join is
 * run for a service with a slow start of that window and for one without. With slow start the
 * newcomer's share of the first fifth of the window stays under a third of a fair share, it has its
 * fair share by the end, and the p99 of the join is lower than without.
 *
 * <p>The strategy is {@code round-robin}, the default of a service a backend creates, whose shares
 * are counted in picks, so the test holds on a busy machine; {@code
 * -Dteller.join.strategy=least-connections} runs the same join with the strategy whose habit of
 * sending an idle newcomer a burst slow start is for (there the shares also follow how fast each
 * backend answers).
 */
@Timeout(300)
class SlowStartJoinIT {

  private static final Logger LOG = LoggerFactory.getLogger(SlowStartJoinIT.class);
  static final int WINDOW_MS = 10_000;
  static final int COLD_MS = 500;
  static final int WORK_MS = 20;
  static final int LOOPS = 8;
  static final String STRATEGY = System.getProperty("teller.join.strategy", "round-robin");

  @TempDir static Path dir;
  static LocalStack stack;
  static LocalStack.Balancer balancer;
  static final List<LocalStack.Backend> steady = new ArrayList<>();
  static Vertx vertx;
  static HttpClient client;

  /** One answered request: when it was sent (epoch ms), how long it took, who answered. */
  record Answer(long sentMillis, long micros, String instance) {}

  /** One join: the newcomer's share per second from when it became eligible, and the latencies. */
  record Join(String mode, double[] sharePerSecond, long p50Micros, long p99Micros, int requests) {
    @Override
    public String toString() {
      StringBuilder shares = new StringBuilder();
      for (double share : sharePerSecond) {
        shares.append(String.format(" %.1f%%", 100 * share));
      }
      return String.format(
          "slow start %-3s: newcomer's share per second:%s; join (%d requests): p50 %.1f ms, p99"
              + " %.1f ms",
          mode, shares, requests, p50Micros / 1000.0, p99Micros / 1000.0);
    }
  }

  @BeforeAll
  static void start() throws Exception {
    stack = new LocalStack(dir);
    stack.startRegistry();
    for (String mode : List.of("on", "off")) {
      JsonObject service =
          new JsonObject()
              .put("routes", List.of(Map.of("pathPrefix", "/" + mode)))
              .put("stripPrefix", true)
              .put("strategy", STRATEGY);
      if (mode.equals("on")) {
        service.put("slowStart", new JsonObject().put("windowMs", WINDOW_MS));
      }
      assertThat(
              Http.put(stack.registryUrl("/v1/services/join-" + mode), LocalStack.TOKEN, service))
          .isEqualTo(201);
    }
    List<Thread> starting = new ArrayList<>();
    starting.add(
        thread(
            () -> {
              LocalStack.Balancer b = stack.startBalancer("balancer", Map.of());
              synchronized (steady) {
                balancer = b;
              }
            }));
    for (int i = 1; i <= 3; i++) {
      String name = "steady-" + i;
      starting.add(
          thread(
              () -> {
                LocalStack.Backend b =
                    stack.startBackend(name, Map.of("TELLER_SERVICE", "join-on"));
                synchronized (steady) {
                  steady.add(b);
                }
              }));
    }
    for (Thread t : starting) {
      t.join();
    }
    assertThat(balancer).isNotNull();
    assertThat(steady).hasSize(3);
    // The same three serve the service without slow start, registered over REST.
    for (LocalStack.Backend b : steady) {
      assertThat(
              Http.post(
                  stack.registryUrl("/v1/services/join-off/instances"),
                  LocalStack.TOKEN,
                  new JsonObject().put("host", "127.0.0.1").put("port", b.port())))
          .isEqualTo(201);
    }
    vertx = Vertx.vertx();
    client =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setSsl(true)
                .setTrustOptions(
                    new PemTrustOptions().addCertPath(stack.certificateOf("balancer").toString()))
                .setKeepAlive(true),
            new PoolOptions().setHttp1MaxSize(LOOPS));
  }

  private interface Start {
    void run() throws Exception;
  }

  private static Thread thread(Start start) {
    Thread thread =
        new Thread(
            () -> {
              try {
                start.run();
              } catch (Exception e) {
                LOG.error("could not start a process", e);
              }
            },
            "start-process");
    thread.start();
    return thread;
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    if (stack != null) {
      stack.close();
    }
  }

  /** The instances of {@code service}, as the registry lists them. */
  static List<JsonObject> instances(String service) {
    JsonArray list =
        new JsonArray(
            Http.send(
                    java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create(
                                stack.registryUrl("/v1/services/" + service + "/instances")))
                        .GET())
                .body());
    List<JsonObject> instances = new ArrayList<>();
    list.forEach(o -> instances.add((JsonObject) o));
    return instances;
  }

  /** Closed-loop clients through the balancer, until {@link #stopAt} has passed. */
  static final class Load {
    final String uri;
    final List<Answer> answers = Collections.synchronizedList(new ArrayList<>());
    volatile long stopAt = Long.MAX_VALUE;
    final List<Future<Void>> loops = new ArrayList<>();

    Load(String mode) {
      this.uri = "/" + mode + "/work?ms=" + WORK_MS;
      for (int i = 0; i < LOOPS; i++) {
        Promise<Void> done = Promise.promise();
        vertx.runOnContext(v -> next(done));
        loops.add(done.future());
      }
    }

    private void next(Promise<Void> done) {
      if (System.currentTimeMillis() >= stopAt) {
        done.complete();
        return;
      }
      long sentMillis = System.currentTimeMillis();
      long sent = System.nanoTime();
      client
          .request(
              new RequestOptions().setHost("127.0.0.1").setPort(balancer.httpsPort()).setURI(uri))
          .compose(request -> request.send())
          .compose(
              response ->
                  response
                      .body()
                      .map(
                          body -> {
                            if (response.statusCode() != 200) {
                              throw new IllegalStateException(
                                  "status " + response.statusCode() + ": " + body);
                            }
                            return body.toJsonObject().getString("instance");
                          }))
          .onComplete(
              answered -> {
                if (answered.failed()) {
                  done.fail(answered.cause());
                  return;
                }
                answers.add(
                    new Answer(sentMillis, (System.nanoTime() - sent) / 1000, answered.result()));
                next(done);
              });
    }

    /** Stops at {@code millis} and waits for every loop. */
    List<Answer> stopAt(long millis) throws Exception {
      stopAt = millis;
      Future.all(loops)
          .toCompletionStage()
          .toCompletableFuture()
          .get(Math.max(0, millis - System.currentTimeMillis()) + 30_000, TimeUnit.MILLISECONDS);
      synchronized (answers) {
        return new ArrayList<>(answers);
      }
    }
  }

  /** Steady load on both services, unmeasured, until {@code untilMillis} and for 3 s at least. */
  static void warmUp(long untilMillis) throws Exception {
    Load on = new Load("on");
    Load off = new Load("off");
    long until = Math.max(untilMillis, System.currentTimeMillis() + 3_000);
    on.stopAt(until);
    off.stopAt(until);
  }

  /**
   * Runs one join: steady load, a newcomer with a warm-up joins, measured until past the window.
   */
  static Join join(String mode) throws Exception {
    Load load = new Load(mode);
    // Steady before the join.
    Poll.until(Duration.ofSeconds(10), () -> assertThat(load.answers).hasSizeGreaterThan(100));
    LocalStack.Backend newcomer =
        stack.startBackend(
            "newcomer-" + mode,
            Map.of(
                "TELLER_SERVICE", "join-" + mode,
                "TELLER_BACKEND_WARMUP_MS", String.valueOf(WINDOW_MS),
                "TELLER_BACKEND_WARMUP_DELAY_MS", String.valueOf(COLD_MS)));
    JsonObject[] registered = new JsonObject[1];
    Poll.until(
        Duration.ofSeconds(10),
        () ->
            registered[0] =
                instances("join-" + mode).stream()
                    .filter(i -> i.getInteger("port") == newcomer.port())
                    .findFirst()
                    .orElseThrow());
    String id = registered[0].getString("id");
    long eligible = Instant.parse(registered[0].getString("eligibleAt")).toEpochMilli();
    if (mode.equals("on")) {
      // The balancer ramps it: part of its weight only, at first.
      JsonObject counted =
          Http.getJson("http://127.0.0.1:" + balancer.adminPort() + "/counts")
              .getJsonObject("instances")
              .getJsonObject(id);
      LOG.info("slow start on: the newcomer on the balancer's /counts: {}", counted);
    }
    int seconds = WINDOW_MS / 1000 + 2;
    List<Answer> answers = load.stopAt(eligible + seconds * 1000L);

    double[] share = new double[seconds];
    for (int s = 0; s < seconds; s++) {
      long from = eligible + s * 1000L;
      long to = from + 1000;
      long all = 0;
      long toNewcomer = 0;
      for (Answer answer : answers) {
        if (answer.sentMillis() >= from && answer.sentMillis() < to) {
          all++;
          toNewcomer += answer.instance().equals(id) ? 1 : 0;
        }
      }
      share[s] = all == 0 ? 0 : (double) toNewcomer / all;
    }
    long[] during =
        answers.stream()
            .filter(a -> a.sentMillis() >= eligible && a.sentMillis() < eligible + WINDOW_MS)
            .mapToLong(Answer::micros)
            .sorted()
            .toArray();
    Join join =
        new Join(
            mode,
            share,
            during[during.length / 2],
            during[(int) Math.floor(during.length * 0.99)],
            during.length);
    LOG.info("slow-start join: {}", join);
    return join;
  }

  /** The newcomer's share of the requests sent between these seconds of the join. */
  static double share(Join join, int fromSecond, int toSecond) {
    double sum = 0;
    for (int s = fromSecond; s < toSecond; s++) {
      sum += join.sharePerSecond()[s];
    }
    return sum / (toSecond - fromSecond);
  }

  @Test
  void aNewcomerIsEasedInAndTheJoinsP99IsLower() throws Exception {
    // A newcomer is eased in only once the service is past its cold start (a window after its
    // first instance became eligible); the load warms every process meanwhile, unmeasured.
    long firstEligible =
        instances("join-on").stream()
            .mapToLong(i -> Instant.parse(i.getString("eligibleAt")).toEpochMilli())
            .max()
            .orElseThrow();
    warmUp(firstEligible + WINDOW_MS);

    Join on = join("on");
    Join off = join("off");
    LOG.info("slow-start join summary:\n  {}\n  {}", on, off);

    double fair = 0.25;
    // The first fifth of the window: under a third of a fair share.
    assertThat(share(on, 0, 2)).isLessThan(fair / 3);
    // By the end (the last second of the window and the two after): a fair share, within what a
    // busy machine's timing allows.
    assertThat(share(on, WINDOW_MS / 1000 - 1, WINDOW_MS / 1000 + 2)).isGreaterThan(fair * 0.75);
    assertThat(on.p99Micros()).isLessThan(off.p99Micros());
  }
}
