package io.teller.registry.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.teller.common.cluster.ClusterRole;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.model.Change;
import io.teller.common.model.RegistryContract;
import io.teller.common.model.Snapshot;
import io.teller.common.testing.Poll;
import io.teller.registry.testing.Http;
import io.teller.registry.testing.RegistryNodes;
import io.vertx.core.Future;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The event-bus API from a lite member, the change stream over the event bus and over SSE, and
 * removal of an instance when the member that registered it leaves. Two registry nodes, so that
 * writes made through either reach subscribers in revision order.
 */
@Timeout(120)
class EventBusAndChangesTest {

  @TempDir static Path dataDir;
  static RegistryNodes nodes;
  static RegistryNodes.Node first;
  static RegistryNodes.Node second;
  static TellerCluster lite;

  @BeforeAll
  static void start() {
    nodes = new RegistryNodes("bus", dataDir);
    first = nodes.start();
    second = nodes.start();
    lite = nodes.clusters().start(ClusterRole.LITE);
  }

  @AfterAll
  static void stop() {
    nodes.close();
  }

  static <T> T await(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  static JsonObject request(TellerCluster from, String address, JsonObject body) throws Exception {
    return await(from.vertx().eventBus().<JsonObject>request(address, body).map(Message::body));
  }

  @Test
  void registerHeartbeatDeregisterAndSnapshotOverTheEventBus() throws Exception {
    JsonObject instance =
        request(
            lite,
            RegistryContract.REGISTER,
            new JsonObject()
                .put("service", "bus-svc")
                .put("member", lite.memberId())
                .put(
                    "registration",
                    new JsonObject()
                        .put("host", "127.0.0.1")
                        .put("port", 8300)
                        .put("ttlSeconds", 30)));
    assertThat(instance.getString("source")).isEqualTo("event-bus");
    assertThat(instance.getString("member")).isEqualTo(lite.memberId());
    String id = instance.getString("id");

    JsonObject beat =
        request(
            lite,
            RegistryContract.HEARTBEAT,
            new JsonObject().put("service", "bus-svc").put("id", id));
    assertThat(beat.getString("lastHeartbeatAt"))
        .isGreaterThanOrEqualTo(instance.getString("lastHeartbeatAt"));

    Snapshot snapshot =
        Snapshot.fromJson(request(lite, RegistryContract.SNAPSHOT, new JsonObject()));
    assertThat(snapshot.instances()).anyMatch(i -> i.id().equals(id));
    assertThat(snapshot.services()).anyMatch(s -> s.name().equals("bus-svc"));
    assertThat(snapshot.revision()).isGreaterThanOrEqualTo(instance.getLong("revision"));

    assertThatThrownBy(
            () ->
                request(
                    lite,
                    RegistryContract.HEARTBEAT,
                    new JsonObject().put("service", "bus-svc").put("id", "bus-svc-0000000000")))
        .isInstanceOfSatisfying(
            ReplyException.class, e -> assertThat(e.failureCode()).isEqualTo(404));
    assertThatThrownBy(
            () ->
                request(
                    lite,
                    RegistryContract.REGISTER,
                    new JsonObject()
                        .put("service", "bus-svc")
                        .put("registration", new JsonObject().put("host", "h").put("port", 70000))))
        .isInstanceOfSatisfying(
            ReplyException.class,
            e -> {
              assertThat(e.failureCode()).isEqualTo(400);
              assertThat(new JsonObject(e.getMessage()).getString("field")).isEqualTo("port");
            });

    // A malformed request is refused naming the field (it used to go unanswered until a timeout).
    assertThatThrownBy(
            () ->
                request(
                    lite,
                    RegistryContract.DEREGISTER,
                    new JsonObject().put("service", "bus-svc").put("id", id).put("drain", "no")))
        .isInstanceOfSatisfying(
            ReplyException.class,
            e -> {
              assertThat(e.failureCode()).isEqualTo(400);
              assertThat(new JsonObject(e.getMessage()).getString("field")).isEqualTo("drain");
            });

    JsonObject drained =
        request(
            lite,
            RegistryContract.DEREGISTER,
            new JsonObject().put("service", "bus-svc").put("id", id).put("drain", false));
    assertThat(drained.getString("id")).isEqualTo(id);
    assertThat(Http.get(first.url("/v1/services/bus-svc/instances/" + id)).status()).isEqualTo(404);
  }

  @Test
  void changesArriveInRevisionOrderOverTheEventBusAndSse() throws Exception {
    List<Change> viaBus = RegistryNodes.changesSeenBy(lite);

    HttpResponse<InputStream> sse =
        Http.client()
            .send(
                HttpRequest.newBuilder(URI.create(second.url("/v1/events"))).build(),
                HttpResponse.BodyHandlers.ofInputStream());
    assertThat(sse.headers().firstValue("content-type")).hasValue("text/event-stream");
    List<Long> viaSse = new CopyOnWriteArrayList<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(new InputStreamReader(sse.body(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                  if (line.startsWith("id: ")) {
                    viaSse.add(Long.parseLong(line.substring(4)));
                  }
                }
              } catch (Exception e) {
                // stream closed by the test
              }
            });
    reader.setDaemon(true);
    reader.start();
    // The stream is live once a change made now comes through it.
    Poll.until(
        Duration.ofSeconds(5),
        () -> {
          long probe =
              Http.put(first.url("/v1/services/sse-probe"), "{}").json().getLong("revision");
          Poll.until(Duration.ofMillis(500), () -> assertThat(viaSse).contains(probe));
        });

    // Writes through both registry nodes, interleaved.
    List<Long> written = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      RegistryNodes.Node via = i % 2 == 0 ? first : second;
      Http.Response response =
          Http.post(
              via.url("/v1/services/order/instances"),
              "{\"host\": \"127.0.0.1\", \"port\": " + (9000 + i) + "}");
      assertThat(response.status()).isEqualTo(201);
      written.add(response.json().getLong("revision"));
    }
    long lastWritten = written.get(written.size() - 1);
    Poll.until(
        Duration.ofSeconds(5),
        () -> {
          assertThat(viaBus).anyMatch(c -> c.revision() == lastWritten);
          assertThat(viaSse).contains(lastWritten);
        });
    List<Long> busRevisions = viaBus.stream().map(Change::revision).toList();
    assertThat(busRevisions).isSorted().doesNotHaveDuplicates().containsAll(written);
    assertThat(viaSse).isSorted().doesNotHaveDuplicates().containsAll(written);
    sse.body().close();
  }

  @Test
  void anInstanceIsRemovedWhenTheMemberThatRegisteredItLeaves() throws Exception {
    TellerCluster backend = nodes.clusters().start(ClusterRole.LITE);
    JsonObject instance =
        request(
            backend,
            RegistryContract.REGISTER,
            new JsonObject()
                .put("service", "leaver")
                .put("member", backend.memberId())
                .put(
                    "registration",
                    new JsonObject()
                        .put("host", "127.0.0.1")
                        .put("port", 8400)
                        .put("ttlSeconds", 600)));
    String id = instance.getString("id");
    assertThat(Http.get(first.url("/v1/services/leaver/instances/" + id)).status()).isEqualTo(200);

    long leftAt = System.nanoTime();
    nodes.clusters().stop(backend);
    Poll.until(
        Duration.ofSeconds(5),
        () ->
            assertThat(Http.get(first.url("/v1/services/leaver/instances/" + id)).status())
                .isEqualTo(404));
    // Not the TTL (600 s): the member-removed event.
    assertThat(Duration.ofNanos(System.nanoTime() - leftAt)).isLessThan(Duration.ofSeconds(5));
  }
}
