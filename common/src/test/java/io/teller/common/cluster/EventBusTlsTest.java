package io.teller.common.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.teller.common.testing.TestCa;
import io.teller.common.testing.TestClusters;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The event bus over TLS with client certificates ({@code cluster.tls.*}), in real clusters on
 * 127.0.0.1 with certificate authorities made at test time: members whose certificates the
 * cluster's CA signed exchange messages both ways; a member with another CA's certificate, or none,
 * joins Hazelcast (it has no member authentication) but can neither send to nor receive from them.
 */
@Timeout(180)
class EventBusTlsTest {

  @TempDir Path dir;

  @Test
  void membersWithCertificatesFromTheClusterCaExchangeMessages() throws Exception {
    TestCa ca = TestCa.create(dir.resolve("ca"));
    try (TestClusters clusters = new TestClusters("tls")) {
      TellerCluster data =
          clusters.start(clusters.options(ClusterRole.DATA).withTls(ca.member("r")));
      TellerCluster lite1 =
          clusters.start(clusters.options(ClusterRole.LITE).withTls(ca.member("b")));
      TellerCluster lite2 =
          clusters.start(clusters.options(ClusterRole.LITE).withTls(ca.member("s")));
      assertThat(data.memberCount()).isEqualTo(3);
      assertThat(data.options().tls().enabled()).isTrue();

      // Lite to data member, and data member to lite, each with its reply coming back.
      await(
          data.vertx().eventBus().<String>consumer("tls.echo", m -> m.reply("data: " + m.body())));
      assertThat(requestUntilRouted(lite1, "tls.echo", "ping").body()).isEqualTo("data: ping");
      await(
          lite2.vertx().eventBus().<String>consumer("tls.lite", m -> m.reply("lite: " + m.body())));
      assertThat(requestUntilRouted(data, "tls.lite", "pong").body()).isEqualTo("lite: pong");

      // Publish from one lite member reaches every member, the other lite member included. Each
      // member learns of the others' consumers through Hazelcast, a moment after they register:
      // publish until all three have had it.
      Set<String> reached = ConcurrentHashMap.newKeySet();
      for (TellerCluster node : List.of(data, lite1, lite2)) {
        await(node.vertx().eventBus().consumer("tls.news", m -> reached.add(node.memberId())));
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (reached.size() < 3 && System.nanoTime() < deadline) {
        lite2.vertx().eventBus().publish("tls.news", "hello");
        Thread.sleep(200);
      }
      assertThat(reached)
          .containsExactlyInAnyOrder(data.memberId(), lite1.memberId(), lite2.memberId());
    }
  }

  @Test
  void aMemberWithoutACertificateFromTheClusterCaJoinsHazelcastButNotTheEventBus()
      throws Exception {
    TestCa ca = TestCa.create(dir.resolve("ca"));
    TestCa otherCa = TestCa.create(dir.resolve("other-ca"));
    try (TestClusters clusters = new TestClusters("tls-rogue")) {
      TellerCluster data =
          clusters.start(clusters.options(ClusterRole.DATA).withTls(ca.member("r")));
      TellerCluster lite =
          clusters.start(clusters.options(ClusterRole.LITE).withTls(ca.member("b")));
      TellerCluster otherCaMember =
          clusters.start(clusters.options(ClusterRole.LITE).withTls(otherCa.member("x")));
      // The CA's certificate is no secret: trusting it is not enough without a certificate it
      // signed (the members require one from every peer).
      ClusterTls foreign = otherCa.member("y");
      TellerCluster trustingMember =
          clusters.start(
              clusters
                  .options(ClusterRole.LITE)
                  .withTls(new ClusterTls(foreign.cert(), foreign.key(), ca.certPath())));
      TellerCluster plainMember = clusters.start(clusters.options(ClusterRole.LITE));
      List<TellerCluster> outsiders = List.of(otherCaMember, trustingMember, plainMember);
      // Hazelcast lets them in: the cluster's name is all it asks (see the README).
      assertThat(data.memberCount()).isEqualTo(5);

      List<String> dataGot = new CopyOnWriteArrayList<>();
      await(
          data.vertx()
              .eventBus()
              .<String>consumer(
                  "secure.in",
                  m -> {
                    dataGot.add(m.body());
                    m.reply("ok");
                  }));
      assertThat(requestUntilRouted(lite, "secure.in", "from a member").body()).isEqualTo("ok");

      // Into the cluster: routed to the data member's consumer, never delivered.
      List<Callable<Void>> attempts = new ArrayList<>();
      for (TellerCluster outsider : outsiders) {
        attempts.add(refused(outsider, "secure.in", "from outside " + outsider.memberId()));
      }
      // Out of the cluster: the members' messages to the outsiders' consumers never reach them.
      List<String> outsidersGot = new CopyOnWriteArrayList<>();
      for (TellerCluster outsider : outsiders) {
        String address = "outside.in." + outsider.memberId();
        await(
            outsider
                .vertx()
                .eventBus()
                .<String>consumer(
                    address,
                    m -> {
                      outsidersGot.add(m.body());
                      m.reply("got it");
                    }));
        attempts.add(refused(data, address, "registry state"));
        attempts.add(refused(lite, address, "load report"));
      }
      ExecutorService pool = Executors.newFixedThreadPool(attempts.size());
      try {
        for (var attempt : pool.invokeAll(attempts)) {
          attempt.get();
        }
      } finally {
        pool.shutdownNow();
      }
      assertThat(dataGot).containsExactly("from a member");
      assertThat(outsidersGot).isEmpty();

      // The members with the cluster's certificates still talk.
      assertThat(requestUntilRouted(lite, "secure.in", "still here").body()).isEqualTo("ok");
      assertThat(dataGot).containsExactly("from a member", "still here");
    }
  }

  /**
   * Requests until the sender knows of a consumer (its view of the others' consumers comes through
   * Hazelcast, a moment after they register); fails the test if no reply comes.
   */
  private static Message<String> requestUntilRouted(TellerCluster from, String address, String body)
      throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      try {
        return await(
            from.vertx()
                .eventBus()
                .request(address, body, new DeliveryOptions().setSendTimeout(5_000)));
      } catch (ExecutionException e) {
        if (!isNoHandlers(e) || System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(50);
      }
    }
  }

  /**
   * A request from {@code from} that is routed to a consumer on another member (not refused for
   * want of a known consumer) and still gets no reply: the connection between the two never carried
   * it.
   */
  private static Callable<Void> refused(TellerCluster from, String address, String body) {
    return () -> {
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (true) {
        try {
          Message<String> reply =
              await(
                  from.vertx()
                      .eventBus()
                      .request(address, body, new DeliveryOptions().setSendTimeout(2_000)));
          fail("\"" + body + "\" to " + address + " was answered: " + reply.body());
        } catch (ExecutionException e) {
          if (!isNoHandlers(e)) {
            return null;
          }
          if (System.nanoTime() > deadline) {
            fail("no consumer at " + address + " was ever known to the sender", e);
          }
          Thread.sleep(50);
        }
      }
    };
  }

  private static boolean isNoHandlers(ExecutionException e) {
    return e.getCause() instanceof ReplyException reply
        && reply.failureType() == ReplyFailure.NO_HANDLERS;
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static void await(io.vertx.core.eventbus.MessageConsumer<?> consumer) throws Exception {
    await(consumer.completion());
  }
}
