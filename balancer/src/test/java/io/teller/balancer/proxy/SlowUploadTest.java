package io.teller.balancer.proxy;

import static io.teller.balancer.testing.BalancerHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.teller.balancer.BalancerSettings;
import io.teller.balancer.testing.BalancerHarness;
import io.teller.common.testing.Poll;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code proxy.response.timeout.ms} counts from the end of the request body: a backend that answers
 * only once it has the whole body is not slow while the client is still sending it. An upload that
 * takes longer than the timeout must not be cut off with a 504.
 */
@Timeout(60)
class SlowUploadTest {

  static final int RESPONSE_TIMEOUT_MS = 1_000;
  static final int CHUNKS = 12;
  static final int CHUNK_BYTES = 16 * 1024;

  /** 12 chunks 250 ms apart: the upload lasts about 3 s, three times the response timeout. */
  static final long CHUNK_INTERVAL_MS = 250;

  @TempDir static Path dir;
  static BalancerHarness harness;
  static HttpClient client;

  @BeforeAll
  static void start() throws Exception {
    harness =
        new BalancerHarness(
            dir, true, Map.of(BalancerSettings.RESPONSE_TIMEOUT_MS, RESPONSE_TIMEOUT_MS));
    // Answers as soon as the body is complete, with its length.
    int port =
        harness.backend(
            request ->
                request
                    .body()
                    .onSuccess(body -> request.response().end(String.valueOf(body.length()))));
    harness.defineService("slow-upload", "{\"routes\": [{\"pathPrefix\": \"/slow-upload\"}]}");
    harness.register("slow-upload", port, 1);
    client =
        harness
            .backendVertx()
            .createHttpClient(
                new HttpClientOptions()
                    .setSsl(true)
                    .setTrustOptions(harness.certificates().trustOptions()));
    Poll.until(
        Duration.ofSeconds(10),
        () ->
            assertThat(
                    await(
                        client
                            .request(
                                new RequestOptions()
                                    .setHost("127.0.0.1")
                                    .setPort(harness.httpsPort())
                                    .setURI("/slow-upload"))
                            .compose(HttpClientRequest::send)
                            .map(HttpClientResponse::statusCode)))
                .isEqualTo(200));
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  void anUploadLongerThanTheResponseTimeoutIsNotCutOff() throws Exception {
    // The whole exchange runs on a Vert.x context: see OnContext.
    record Answer(int status, String body) {}
    Answer answer =
        await(
            io.teller.common.testing.OnContext.run(
                harness.backendVertx(),
                () ->
                    client
                        .request(
                            new RequestOptions()
                                .setMethod(HttpMethod.POST)
                                .setHost("127.0.0.1")
                                .setPort(harness.httpsPort())
                                .setURI("/slow-upload")
                                .putHeader("content-length", String.valueOf(CHUNKS * CHUNK_BYTES)))
                        .compose(
                            request -> {
                              long[] chunks = {0};
                              // A slow client: one chunk per interval, on a timer (bounded: CHUNKS
                              // of them).
                              harness
                                  .backendVertx()
                                  .setPeriodic(
                                      CHUNK_INTERVAL_MS,
                                      timer -> {
                                        chunks[0]++;
                                        if (chunks[0] < CHUNKS) {
                                          request.write(Buffer.buffer(new byte[CHUNK_BYTES]));
                                        } else {
                                          harness.backendVertx().cancelTimer(timer);
                                          request.end(Buffer.buffer(new byte[CHUNK_BYTES]));
                                        }
                                      });
                              return request.response();
                            })
                        .compose(
                            response ->
                                response
                                    .body()
                                    .map(
                                        body ->
                                            new Answer(response.statusCode(), body.toString())))));
    String body = answer.body();
    assertThat(answer.status()).as("answer: %s", body).isEqualTo(200);
    assertThat(body).isEqualTo(String.valueOf(CHUNKS * CHUNK_BYTES));
  }
}
