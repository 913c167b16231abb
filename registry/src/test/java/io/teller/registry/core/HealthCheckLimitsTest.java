package io.teller.registry.core;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.teller.common.cluster.ClusterRole;
import io.teller.common.cluster.MemberListeners;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.net.Cidr;
import io.teller.common.testing.Poll;
import io.teller.registry.RegistrySettings;
import io.teller.registry.testing.Http;
import io.teller.registry.testing.RegistryNodes;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Health checks against backends that misbehave for real (a body that never ends, a body that
 * trickles), and against addresses the registry will not connect to any more: what each costs the
 * registry, seen from the backend's side of the connection.
 */
@Timeout(120)
class HealthCheckLimitsTest {

  @TempDir Path dataDir;
  RegistryNodes nodes;
  Vertx backendVertx;

  /** Connections the backend has open now, and has seen closed. */
  final AtomicInteger open = new AtomicInteger();

  final AtomicInteger closed = new AtomicInteger();
  final AtomicLong mostWrittenOnOneConnection = new AtomicLong();
  final List<String> hostHeaders = new CopyOnWriteArrayList<>();
  final List<String> probers = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() {
    nodes = new RegistryNodes("health-limits", dataDir);
    backendVertx = Vertx.vertx();
  }

  @AfterEach
  void stop() throws Exception {
    nodes.close();
    backendVertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** A backend on {@code host}, port 0, answering every request with {@code answer}. */
  HttpServer backend(String host, Handler<HttpServerRequest> answer) throws Exception {
    return backendVertx
        .createHttpServer()
        .connectionHandler(
            connection -> {
              open.incrementAndGet();
              connection.closeHandler(
                  v -> {
                    open.decrementAndGet();
                    closed.incrementAndGet();
                  });
            })
        .requestHandler(
            request -> {
              hostHeaders.add(String.valueOf(request.getHeader("host")));
              probers.add(String.valueOf(request.getHeader("x-teller-prober")));
              answer.handle(request);
            })
        .listen(0, host)
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  /** 200 with a 1 GiB body, written as fast as the connection takes it, forever in practice. */
  void oneGibibyte(HttpServerRequest request) {
    HttpServerResponse response = request.response();
    response.putHeader("content-length", String.valueOf(1L << 30));
    Buffer chunk = Buffer.buffer(new byte[64 * 1024]);
    AtomicLong written = new AtomicLong();
    Runnable[] pump = new Runnable[1];
    pump[0] =
        () -> {
          while (!response.writeQueueFull() && !response.closed()) {
            response.write(chunk);
            mostWrittenOnOneConnection.accumulateAndGet(
                written.addAndGet(chunk.length()), Math::max);
          }
          if (!response.closed()) {
            response.drainHandler(v -> pump[0].run());
          }
        };
    pump[0].run();
  }

  /** 200, chunked, then one byte every 20 ms, never ending. */
  void trickle(HttpServerRequest request) {
    HttpServerResponse response = request.response().setChunked(true);
    response.write("x");
    long timer =
        backendVertx.setPeriodic(
            20,
            t -> {
              if (!response.closed()) {
                response.write("x");
              }
            });
    response.closeHandler(v -> backendVertx.cancelTimer(timer));
  }

  static String defineService(RegistryNodes.Node node, String name, int timeoutMs) {
    assertThat(
            Http.put(
                    node.url("/v1/services/" + name),
                    "{\"healthCheck\": {\"path\": \"/health\", \"intervalMs\": 300, \"timeoutMs\": "
                        + timeoutMs
                        + ", \"healthyThreshold\": 1, \"unhealthyThreshold\": 2}}")
                .status())
        .isIn(200, 201);
    return name;
  }

  static String register(RegistryNodes.Node node, String service, String host, int port) {
    Http.Response registered =
        Http.post(
            node.url("/v1/services/" + service + "/instances"),
            "{\"host\": \"" + host + "\", \"port\": " + port + "}");
    assertThat(registered.status()).as(registered.body()).isEqualTo(201);
    return registered.json().getString("id");
  }

  static String status(RegistryNodes.Node node, String service, String id) {
    return Http.get(node.url("/v1/services/" + service + "/instances/" + id))
        .json()
        .getString("status");
  }

  @Test
  void aBodyThatNeverEndsIsCutOffAfterAFewKibibytesAndTheStatusCounts() throws Exception {
    HttpServer backend = backend("127.0.0.1", this::oneGibibyte);
    RegistryNodes.Node node = nodes.start();
    String service = defineService(node, "endless", 300);
    String id = register(node, service, "127.0.0.1", backend.actualPort());

    Poll.until(
        Duration.ofSeconds(10), () -> assertThat(status(node, service, id)).isEqualTo("healthy"));
    // Probe after probe, each connection is closed by the registry as soon as it has read past the
    // cap: none is left streaming (before, every probe's connection stayed open, read without end).
    Poll.until(Duration.ofSeconds(10), () -> assertThat(closed.get()).isGreaterThanOrEqualTo(5));
    assertThat(open.get()).isLessThanOrEqualTo(1);
    // What the backend got out before the reset is what the sockets' buffers hold, not a body.
    assertThat(mostWrittenOnOneConnection.get()).isLessThan(64L << 20);
  }

  @Test
  void aBodyThatTricklesIsCancelledAtTheTimeoutAndFails() throws Exception {
    HttpServer backend = backend("127.0.0.1", this::trickle);
    RegistryNodes.Node node = nodes.start();
    String service = defineService(node, "trickling", 150);
    String id = register(node, service, "127.0.0.1", backend.actualPort());

    Poll.until(
        Duration.ofSeconds(10), () -> assertThat(status(node, service, id)).isEqualTo("unhealthy"));
    // The trickle never lets an idle timeout fire: only the registry's own deadline closes these.
    Poll.until(Duration.ofSeconds(10), () -> assertThat(closed.get()).isGreaterThanOrEqualTo(4));
    assertThat(open.get()).isLessThanOrEqualTo(1);
  }

  @Test
  void theCheckConnectsToTheAddressItCheckedWithTheNameInTheHostHeader() throws Exception {
    HttpServer backend = backend("127.0.0.1", request -> request.response().end("ok"));
    RegistryNodes.Node node = nodes.start();
    String service = defineService(node, "named", 300);
    String id = register(node, service, "localhost", backend.actualPort());

    Poll.until(
        Duration.ofSeconds(10), () -> assertThat(status(node, service, id)).isEqualTo("healthy"));
    assertThat(hostHeaders).contains("localhost:" + backend.actualPort());
  }

  @Test
  void anAddressThatBecameAMembersListenerIsNotProbedAndTheInstanceTurnsUnhealthy()
      throws Exception {
    HttpServer backend = backend("127.0.0.1", request -> request.response().end("ok"));
    RegistryNodes.Node node = nodes.start();
    String service = defineService(node, "overtaken", 300);
    String id = register(node, service, "127.0.0.1", backend.actualPort());
    Poll.until(
        Duration.ofSeconds(10), () -> assertThat(status(node, service, id)).isEqualTo("healthy"));

    try (LogLines log = new LogLines("teller.registry")) {
      // A member joins that says it listens on that port: 127.0.0.1 at that port is now a Teller
      // listener, and the checker will not send there any more.
      TellerCluster balancer =
          nodes
              .clusters()
              .start(
                  nodes
                      .clusters()
                      .options(ClusterRole.LITE)
                      .withListeners(
                          new MemberListeners(Map.of("admin", backend.actualPort()), true)));
      Poll.until(
          Duration.ofSeconds(10),
          () -> assertThat(status(node, service, id)).isEqualTo("unhealthy"));
      int probesWhenRefused = probers.size();
      // Refused at every interval (300 ms) meanwhile, said once.
      Poll.until(
          Duration.ofSeconds(10),
          () ->
              assertThat(log.containing("health check of instance " + id + " not sent"))
                  .hasSize(1));
      Thread.sleep(1000); // a window for probes that must not come, not a wait for an event
      assertThat(probers.size()).isLessThanOrEqualTo(probesWhenRefused + 1);
      assertThat(log.containing("health check of instance " + id + " not sent"))
          .containsExactly(
              "health check of instance "
                  + id
                  + " not sent: refused: 127.0.0.1:"
                  + backend.actualPort()
                  + " is the admin listener of cluster member "
                  + balancer.hazelcast().getCluster().getLocalMember().getAddress().getHost()
                  + ":"
                  + balancer.hazelcast().getCluster().getLocalMember().getAddress().getPort());

      // The member leaves: the address passes again, and the instance comes back.
      nodes.clusters().stop(balancer);
      Poll.until(
          Duration.ofSeconds(10), () -> assertThat(status(node, service, id)).isEqualTo("healthy"));
    }
  }

  @Test
  void aDenyRuleReachesInstancesRegisteredBeforeIt() throws Exception {
    HttpServer backend = backend("127.0.0.9", request -> request.response().end("ok"));
    RegistryNodes.Node before = nodes.start();
    String service = defineService(before, "tightened", 300);
    String id = register(before, service, "127.0.0.9", backend.actualPort());
    Poll.until(
        Duration.ofSeconds(10), () -> assertThat(status(before, service, id)).isEqualTo("healthy"));

    // A rolling restart brings in the rule: the node with it holds every instance once the other
    // leaves, and never connects to the denied address.
    RegistryNodes.Node after =
        nodes.start(Map.of(RegistrySettings.INSTANCES_DENY, List.of(Cidr.parse("127.0.0.9/32"))));
    nodes.stop(before);
    Poll.until(
        Duration.ofSeconds(20),
        () -> assertThat(status(after, service, id)).isEqualTo("unhealthy"));
    Thread.sleep(1000); // a window for probes that must not come, not a wait for an event
    assertThat(probers).doesNotContain(after.cluster().memberId());
  }

  /** Captures what one logger says; close to stop capturing. */
  static final class LogLines implements AutoCloseable {
    private final Logger logger;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    LogLines(String name) {
      logger = (Logger) LoggerFactory.getLogger(name);
      appender.start();
      logger.addAppender(appender);
    }

    List<String> containing(String text) {
      synchronized (appender) {
        return appender.list.stream()
            .map(ILoggingEvent::getFormattedMessage)
            .filter(m -> m.contains(text))
            .toList();
      }
    }

    @Override
    public void close() {
      logger.detachAppender(appender);
      appender.stop();
    }
  }
}
