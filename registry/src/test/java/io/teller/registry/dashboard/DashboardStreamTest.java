package io.teller.registry.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.registry.RegistrySettings;
import io.teller.registry.testing.Http;
import io.teller.registry.testing.RegistryNodes;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard's page and stream on a real registry node: the page's files with their security
 * headers, a hello with the registry's state, a registry change in a tick within a second, and no
 * more pages than {@code dashboard.max.clients}.
 */
@Timeout(120)
class DashboardStreamTest {

  @TempDir static Path dataDir;
  static RegistryNodes nodes;
  static RegistryNodes.Node node;
  static final HttpClient CLIENT =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() {
    nodes = new RegistryNodes("dashboard", dataDir);
    node = nodes.start();
  }

  @AfterAll
  static void stop() {
    nodes.close();
  }

  /** One open stream, read event by event. */
  static final class Stream implements AutoCloseable {
    final InputStream body;
    final BufferedReader lines;
    JsonObject hello;

    Stream(HttpResponse<InputStream> response) {
      this.body = response.body();
      this.lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
    }

    /** The next event named {@code name}, as JSON. */
    JsonObject next(String name) throws Exception {
      String event = null;
      String line;
      while ((line = lines.readLine()) != null) {
        if (line.startsWith("event: ")) {
          event = line.substring(7);
        } else if (line.startsWith("data: ") && name.equals(event)) {
          return new JsonObject(line.substring(6));
        }
      }
      throw new AssertionError("stream ended");
    }

    @Override
    public void close() throws Exception {
      body.close();
    }
  }

  static HttpResponse<InputStream> open() throws Exception {
    return CLIENT.send(
        HttpRequest.newBuilder(URI.create(node.url("/dashboard/stream"))).build(),
        HttpResponse.BodyHandlers.ofInputStream());
  }

  @Test
  void thePageIsServedFromTheJarWithItsHeaders() {
    Http.Response redirect = Http.get(node.url("/dashboard"));
    assertThat(redirect.status()).isIn(301, 302);
    assertThat(redirect.header("location")).isEqualTo("/dashboard/");
    Http.Response page = Http.get(node.url("/dashboard/"));
    assertThat(page.status()).isEqualTo(200);
    assertThat(page.contentType()).startsWith("text/html");
    assertThat(page.body())
        .contains("<script src=\"dashboard.js\"></script>")
        .doesNotContain("http");
    assertThat(page.header("content-security-policy")).contains("default-src 'self'");
    assertThat(Http.get(node.url("/dashboard/dashboard.js")).status()).isEqualTo(200);
    assertThat(Http.get(node.url("/dashboard/nothing.js")).status()).isEqualTo(404);
  }

  /**
   * A stream whose hello holds {@code service}: the write was answered once on this node's disk,
   * and the dashboard's view takes the published change a moment later, as a page would in a tick.
   */
  static Stream streamOnceItHolds(String service) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (true) {
      Stream stream = new Stream(open());
      stream.hello = stream.next("hello");
      boolean holds =
          stream.hello.getJsonArray("services").stream()
              .anyMatch(s -> service.equals(((JsonObject) s).getString("name")));
      if (holds || System.nanoTime() > deadline) {
        return stream;
      }
      stream.close();
      Thread.sleep(50);
    }
  }

  @Test
  void helloThenChangesInTicks() throws Exception {
    Http.put(node.url("/v1/services/watched"), "{\"strategy\": \"least-connections\"}");
    try (Stream stream = streamOnceItHolds("watched")) {
      JsonObject hello = stream.hello;
      assertThat(hello.getJsonArray("services").stream())
          .anySatisfy(s -> assertThat(((JsonObject) s).getString("name")).isEqualTo("watched"));
      assertThat(hello.getLong("tickMs")).isEqualTo(DashboardStream.TICK_MS);
      long registered = System.nanoTime();
      String id =
          Http.post(
                  node.url("/v1/services/watched/instances"),
                  "{\"host\": \"127.0.0.1\", \"port\": 7}")
              .json()
              .getString("id");
      while (true) {
        JsonObject tick = stream.next("tick");
        boolean seen =
            tick.getJsonArray("changes").stream()
                .anyMatch(c -> id.equals(((JsonObject) c).getString("id")));
        if (seen) {
          assertThat(tick.getJsonObject("rows").getJsonArray(id).getLong(0)).isZero();
          break;
        }
      }
      assertThat(Duration.ofNanos(System.nanoTime() - registered))
          .isLessThan(Duration.ofSeconds(1));
    }
  }

  @Test
  void noMorePagesThanTheCap() throws Exception {
    List<Stream> streams = new ArrayList<>();
    try {
      // Other tests' streams may still be closing: fill up to the cap, whatever is open.
      while (true) {
        HttpResponse<InputStream> response = open();
        if (response.statusCode() == 503) {
          assertThat(response.headers().firstValue("content-type"))
              .hasValue("application/problem+json");
          String problem = new String(response.body().readAllBytes(), StandardCharsets.UTF_8);
          assertThat(problem).contains("dashboard.max.clients");
          break;
        }
        assertThat(response.statusCode()).isEqualTo(200);
        streams.add(new Stream(response));
        streams.get(streams.size() - 1).next("hello");
        assertThat(streams)
            .hasSizeLessThanOrEqualTo(RegistrySettings.DEFAULT_DASHBOARD_MAX_CLIENTS);
      }
      assertThat(streams).hasSizeGreaterThan(RegistrySettings.DEFAULT_DASHBOARD_MAX_CLIENTS - 3);
    } finally {
      for (Stream s : streams) {
        s.close();
      }
    }
  }
}
