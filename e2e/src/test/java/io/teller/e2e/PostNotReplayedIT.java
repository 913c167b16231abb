package io.teller.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.common.testing.Poll;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
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
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A POST is never replayed once it reached a backend: two backend processes behind a balancer
 * process; a slow POST reaches one of them (its own log says which), that backend is killed with
 * SIGKILL while the POST is in flight, and the client gets a 502 rather than a second execution on
 * the other backend. (That idempotent GETs are retried through such a crash is shown by
 * MultiNodeTopologyIT and DockerComposeIT.)
 */
@Timeout(300)
class PostNotReplayedIT {

  private static final Logger LOG = LoggerFactory.getLogger(PostNotReplayedIT.class);

  @TempDir static Path dir;
  static LocalStack stack;
  static LocalStack.Balancer balancer;

  /** Instance id to its process. */
  static final Map<String, LocalStack.Backend> backends = new LinkedHashMap<>();

  static Vertx vertx;
  static HttpClient client;

  /** An answer, read whole. */
  record Answer(int status, MultiMap headers, String body) {}

  @BeforeAll
  static void start() throws Exception {
    stack = new LocalStack(dir);
    stack.startRegistry();
    balancer = stack.startBalancer("balancer", Map.of());
    for (String name : List.of("backend-a", "backend-b")) {
      LocalStack.Backend backend = stack.startBackend(name, Map.of());
      String id =
          backend
              .process()
              .awaitLine("registered as (\\S+) in service", Duration.ofSeconds(60))
              .group(1);
      backends.put(id, backend);
    }
    vertx = Vertx.vertx();
    client =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setSsl(true)
                .setTrustOptions(
                    new PemTrustOptions().addCertPath(stack.certificateOf("balancer").toString())),
            new PoolOptions().setHttp1MaxSize(4));
    // Both backends in the balancer's pick set.
    Poll.until(
        Duration.ofSeconds(20),
        () -> {
          Set<String> seen = new HashSet<>();
          for (int i = 0; i < 8; i++) {
            Answer answer = await(call(HttpMethod.GET, "/", null, null));
            assertThat(answer.status()).isEqualTo(200);
            seen.add(new JsonObject(answer.body()).getString("instance"));
          }
          assertThat(seen).isEqualTo(backends.keySet());
        });
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

  static Future<Answer> call(HttpMethod method, String uri, String requestId, Buffer body) {
    RequestOptions options =
        new RequestOptions()
            .setMethod(method)
            .setHost("127.0.0.1")
            .setPort(balancer.httpsPort())
            .setURI(uri);
    if (requestId != null) {
      options.putHeader("x-request-id", requestId);
    }
    return io.teller.common.testing.OnContext.run(
        vertx,
        () ->
            client
                .request(options)
                .compose(
                    request ->
                        body == null
                            ? request.send()
                            : request.putHeader("content-type", "application/json").send(body))
                .compose(
                    response ->
                        response
                            .body()
                            .map(
                                b ->
                                    new Answer(
                                        response.statusCode(), response.headers(), b.toString()))));
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  static String received(String requestId) {
    return "received POST /work id=" + requestId;
  }

  @Test
  void aPostInFlightOnAKilledBackendGets502AndIsNotReplayedOnTheOther() throws Exception {
    String requestId = "order-" + UUID.randomUUID();
    Future<Answer> post =
        call(
            HttpMethod.POST,
            "/work?ms=5000",
            requestId,
            Buffer.buffer(new JsonObject().put("order", requestId).encode()));

    // The backend that got it says so in its log; exactly one of them.
    List<String> reached = new ArrayList<>();
    Poll.until(
        Duration.ofSeconds(10),
        () -> {
          reached.clear();
          backends.forEach(
              (id, backend) -> {
                if (backend.process().output().contains(received(requestId))) {
                  reached.add(id);
                }
              });
          assertThat(reached).hasSize(1);
        });
    String victimId = reached.get(0);
    LocalStack.Backend victim = backends.get(victimId);
    LocalStack.Backend survivor =
        backends.entrySet().stream()
            .filter(e -> !e.getKey().equals(victimId))
            .findFirst()
            .orElseThrow()
            .getValue();
    assertThat(post.isComplete()).as("the POST is still being worked on").isFalse();

    long killedAt = System.nanoTime();
    victim.process().kill();
    Answer answer = await(post);
    LOG.info(
        "POST answered {} {} ms after the kill: {}",
        answer.status(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt),
        answer.body().strip());

    assertThat(answer.status()).as("answer: %s", answer.body()).isEqualTo(502);
    assertThat(answer.headers().get("x-teller-error")).isEqualTo("true");
    assertThat(answer.body()).contains(victimId);

    // A control POST after the crash is served by the survivor, and its log shows it: the log
    // would show the first one too, had it been replayed (and earlier, being in order).
    String controlId = "control-" + UUID.randomUUID();
    Answer control = await(call(HttpMethod.POST, "/work?ms=0", controlId, Buffer.buffer("{}")));
    assertThat(control.status()).as("control: %s", control.body()).isEqualTo(200);
    Poll.until(
        Duration.ofSeconds(5),
        () -> assertThat(survivor.process().output()).contains(received(controlId)));
    assertThat(survivor.process().output()).doesNotContain(requestId);
  }
}
