package io.teller.registry.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.multimap.MultiMap;
import io.teller.common.testing.Poll;
import io.teller.registry.RegistrySettings;
import io.teller.registry.testing.Http;
import io.teller.registry.testing.RegistryNodes;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The change stream's client cap and its consumers, with clients on raw sockets (so that a client
 * leaving is exactly a closed connection) and two registry nodes (so that the changes a client gets
 * come from the other node).
 */
@Timeout(120)
class ChangeStreamTest {

  @TempDir static Path dataDir;
  static RegistryNodes nodes;
  static RegistryNodes.Node writer;
  static RegistryNodes.Node streamer;

  @BeforeAll
  static void start() {
    nodes = new RegistryNodes("events", dataDir);
    writer = nodes.start();
    streamer = nodes.start(Map.of(RegistrySettings.EVENTS_MAX_CLIENTS, 2));
  }

  @AfterAll
  static void stop() {
    nodes.close();
  }

  /** An SSE client on a raw socket. */
  static final class Client implements AutoCloseable {
    final Socket socket;
    final BufferedReader in;
    final String statusLine;

    Client(int port) throws IOException {
      socket = new Socket("127.0.0.1", port);
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      out.write(
          "GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      in =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      statusLine = in.readLine();
    }

    /** Reads lines until one contains {@code text}; the lines read. */
    List<String> readUntil(String text) throws IOException {
      List<String> lines = new ArrayList<>();
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        lines.add(line);
        if (line.contains(text)) {
          return lines;
        }
      }
      throw new IOException("stream ended before " + text + ": " + lines);
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** A streaming client, once the node has let go of the previous test's clients. */
  static Client streaming(RegistryNodes.Node node) throws Exception {
    Client[] client = new Client[1];
    Poll.until(
        Duration.ofSeconds(10),
        () -> {
          Client attempt = new Client(node.port());
          if (!attempt.statusLine.equals("HTTP/1.1 200 OK")) {
            attempt.close();
          }
          assertThat(attempt.statusLine).isEqualTo("HTTP/1.1 200 OK");
          client[0] = attempt;
        });
    return client[0];
  }

  static int subscriptions(RegistryNodes.Node node) {
    // Vert.x's cluster-wide subscription map (vertx-hazelcast's name for it).
    MultiMap<Object, Object> subs = node.cluster().hazelcast().getMultiMap("__vertx.subs");
    return subs.size();
  }

  @Test
  void overTheCapAClientGets503UntilAnotherLeaves() throws Exception {
    try (Client first = streaming(streamer);
        Client second = streaming(streamer)) {

      Http.Response third = Http.get(streamer.url("/v1/events"));
      assertThat(third.status()).isEqualTo(503);
      assertThat(third.contentType()).isEqualTo("application/problem+json");
      assertThat(third.header("retry-after")).isEqualTo("5");
      assertThat(third.json().getString("detail"))
          .contains("streams changes to 2 clients already (events.max.clients)");
      // The cap is per node: the other node still streams.
      try (Client elsewhere = new Client(writer.port())) {
        assertThat(elsewhere.statusLine).isEqualTo("HTTP/1.1 200 OK");
      }

      first.close();
      streaming(streamer).close();
    }
  }

  @Test
  void clientsRegisterNothingInTheClusterAndGetTheOtherNodesChanges() throws Exception {
    int before = subscriptions(writer);
    try (Client a = streaming(streamer);
        Client b = streaming(streamer)) {
      assertThat(subscriptions(writer)).isEqualTo(before);
      assertThat(
              writer
                  .cluster()
                  .hazelcast()
                  .getMultiMap("__vertx.subs")
                  .get(ChangeStream.LOCAL_ADDRESS))
          .isEmpty();

      // Written through the node the clients are not on (the leader publishes it either way).
      assertThat(Http.put(writer.url("/v1/services/streamed"), "{}").status()).isEqualTo(201);
      for (Client client : List.of(a, b)) {
        List<String> lines = client.readUntil("\"streamed\"");
        assertThat(lines).contains("event: service-stored");
      }
    }
  }
}
