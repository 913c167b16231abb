package io.teller.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.backend.DownloadPattern;
import io.teller.common.testing.OnContext;
import io.teller.common.testing.Poll;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Large bodies through a balancer process with a 128 MiB heap, over HTTPS: a 1 GiB upload and a 1
 * GiB download between a Vert.x client and a sample backend, each generated and hashed while it
 * streams on both ends. Arriving whole and unchanged, with the balancer alive, shows that it
 * streams with back-pressure both ways rather than buffering (1 GiB does not fit in its heap).
 * Prints the throughput each way.
 */
@Timeout(900)
class StreamingIT {

  private static final Logger LOG = LoggerFactory.getLogger(StreamingIT.class);

  /** Body size; {@code -Dteller.streaming.bytes=...} for a quicker run. */
  static final long SIZE = Long.getLong("teller.streaming.bytes", 1L << 30);

  static final Duration TRANSFER_DEADLINE = Duration.ofMinutes(6);

  @TempDir static Path dir;
  static LocalStack stack;
  static LocalStack.Balancer balancer;
  static Vertx vertx;
  static HttpClient client;

  @BeforeAll
  static void start() throws Exception {
    stack = new LocalStack(dir);
    stack.startRegistry();
    // Default timeouts: the response timeout starts once the upload is sent (SlowUploadTest).
    balancer = stack.startBalancer("balancer", Map.of(), List.of("-Xmx128m"));
    stack.startBackend("backend", Map.of());
    vertx = Vertx.vertx();
    client =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setSsl(true)
                .setTrustOptions(
                    new PemTrustOptions().addCertPath(stack.certificateOf("balancer").toString())),
            new PoolOptions().setHttp1MaxSize(2));
    Poll.until(
        Duration.ofSeconds(20), () -> assertThat(status("/download?bytes=1")).isEqualTo(200));
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

  @AfterEach
  void balancerSurvived() throws IOException {
    assertThat(balancer.process().isAlive()).as("balancer process alive").isTrue();
    assertThat(balancer.process().output()).doesNotContain("OutOfMemoryError");
    assertThat(
            Http.getJson("http://127.0.0.1:" + balancer.adminPort() + "/healthz")
                .getString("status"))
        .isEqualTo("UP");
    LOG.info("balancer peak resident memory so far: {}", peakRss(balancer.process().pid()));
  }

  @Test
  void theBalancerRunsWithA128MiBHeap() {
    List<String> args = balancer.process().commandLine();
    if (!args.isEmpty()) {
      // The last -Xmx wins: the one this test asked for, after TellerProcess's default.
      assertThat(args.stream().filter(a -> a.startsWith("-Xmx")).reduce((a, b) -> b))
          .hasValue("-Xmx128m");
    }
  }

  @Test
  void aGibibyteUploadArrivesWholeAndUnchanged() throws Exception {
    long seed = new SplittableRandom().nextLong();
    MessageDigest sent = DownloadPattern.newSha256();
    PatternBody[] body = new PatternBody[1];
    long started = System.nanoTime();
    Future<JsonObject> answer =
        OnContext.run(
            vertx,
            () ->
                client
                    .request(
                        new RequestOptions()
                            .setMethod(HttpMethod.POST)
                            .setHost("127.0.0.1")
                            .setPort(balancer.httpsPort())
                            .setURI("/upload")
                            .putHeader("content-length", String.valueOf(SIZE))
                            .putHeader("x-request-id", "upload-" + seed))
                    .compose(
                        request -> {
                          // Created on the request's event loop: the pipe's pause/fetch and our
                          // emits share it.
                          body[0] =
                              new PatternBody(
                                  vertx.getOrCreateContext(), DownloadPattern.of(seed), SIZE, sent);
                          return request.send(body[0]);
                        })
                    .compose(
                        response ->
                            response
                                .body()
                                .map(
                                    b -> {
                                      assertThat(response.statusCode())
                                          .as("upload answer: %s", b)
                                          .isEqualTo(200);
                                      return b.toJsonObject();
                                    })));
    JsonObject received =
        answer
            .toCompletionStage()
            .toCompletableFuture()
            .get(TRANSFER_DEADLINE.toSeconds(), TimeUnit.SECONDS);
    double seconds = (System.nanoTime() - started) / 1e9;

    LOG.info(
        "upload through the balancer: {} bytes in {} s, {} MB/s",
        SIZE,
        String.format("%.1f", seconds),
        String.format("%.1f", SIZE / 1e6 / seconds));
    assertThat(body[0].position()).isEqualTo(SIZE);
    assertThat(received.getLong("bytes")).isEqualTo(SIZE);
    assertThat(received.getString("sha256")).isEqualTo(DownloadPattern.hex(sent));
  }

  @Test
  void aGibibyteDownloadArrivesWholeAndUnchanged() throws Exception {
    long seed = new SplittableRandom().nextLong();
    HashingSink sink = new HashingSink();
    long started = System.nanoTime();
    Future<HttpClientResponse> downloaded =
        OnContext.run(
            vertx,
            () ->
                client
                    .request(
                        new RequestOptions()
                            .setHost("127.0.0.1")
                            .setPort(balancer.httpsPort())
                            .setURI("/download?bytes=" + SIZE + "&seed=" + seed))
                    .compose(request -> request.send())
                    .compose(
                        response -> {
                          assertThat(response.statusCode()).isEqualTo(200);
                          return response.pipeTo(sink).map(response);
                        }));
    HttpClientResponse response =
        downloaded
            .toCompletionStage()
            .toCompletableFuture()
            .get(TRANSFER_DEADLINE.toSeconds(), TimeUnit.SECONDS);
    double seconds = (System.nanoTime() - started) / 1e9;
    String got = sink.sha256();

    LOG.info(
        "download through the balancer: {} bytes in {} s, {} MB/s",
        SIZE,
        String.format("%.1f", seconds),
        String.format("%.1f", SIZE / 1e6 / seconds));
    assertThat(sink.ended()).isTrue();
    assertThat(sink.bytes()).isEqualTo(SIZE);
    // Expected from the seed alone, not from anything the backend sent.
    assertThat(got).isEqualTo(DownloadPattern.sha256(seed, SIZE));
    String trailer = response.trailers().get("x-sha256");
    LOG.info("x-sha256 trailer through the balancer: {}", trailer == null ? "dropped" : "kept");
    if (trailer != null) {
      assertThat(trailer).isEqualTo(got);
    }
  }

  static int status(String uri) throws Exception {
    return OnContext.run(
            vertx,
            () ->
                client
                    .request(
                        new RequestOptions()
                            .setHost("127.0.0.1")
                            .setPort(balancer.httpsPort())
                            .setURI(uri))
                    .compose(r -> r.send())
                    .compose(r -> r.body().map(b -> r.statusCode())))
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  /** VmHWM from /proc (Linux), for the log; "unknown" elsewhere. */
  static String peakRss(long pid) throws IOException {
    Path status = Path.of("/proc", String.valueOf(pid), "status");
    if (!Files.isReadable(status)) {
      return "unknown";
    }
    return Files.readAllLines(status).stream()
        .filter(l -> l.startsWith("VmHWM:"))
        .map(l -> l.substring("VmHWM:".length()).trim())
        .findFirst()
        .orElse("unknown");
  }
}
