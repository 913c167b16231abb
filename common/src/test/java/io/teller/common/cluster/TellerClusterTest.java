package io.teller.common.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.common.testing.TestClusters;
import io.vertx.core.eventbus.Message;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Real Hazelcast clusters on 127.0.0.1: one data member and lite members, as Teller runs. */
@Timeout(120)
class TellerClusterTest {

  @Test
  void liteMembersTalkToTheDataMemberOverTheEventBus() throws Exception {
    try (TestClusters clusters = new TestClusters("bootstrap")) {
      TellerCluster data = clusters.start(ClusterRole.DATA);
      TellerCluster lite1 = clusters.start(ClusterRole.LITE);
      TellerCluster lite2 = clusters.start(ClusterRole.LITE);

      assertThat(data.memberCount()).isEqualTo(3);
      assertThat(lite1.hazelcast().getCluster().getLocalMember().isLiteMember()).isTrue();
      assertThat(data.hazelcast().getCluster().getLocalMember().isLiteMember()).isFalse();

      // Request/reply: a consumer on the data member answers a lite member.
      data.vertx()
          .eventBus()
          .<String>consumer("test.echo", msg -> msg.reply("data got " + msg.body()))
          .completion()
          .toCompletionStage()
          .toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
      String reply =
          lite1
              .vertx()
              .eventBus()
              .<String>request("test.echo", "ping")
              .map(Message::body)
              .toCompletionStage()
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
      assertThat(reply).isEqualTo("data got ping");

      // Publish: every node's consumer receives it.
      CountDownLatch received = new CountDownLatch(3);
      for (TellerCluster node : new TellerCluster[] {data, lite1, lite2}) {
        node.vertx()
            .eventBus()
            .<String>consumer(
                "test.news",
                msg -> {
                  if (msg.body().equals("hello")) {
                    received.countDown();
                  }
                })
            .completion()
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
      }
      lite2.vertx().eventBus().publish("test.news", "hello");
      assertThat(received.await(10, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void twoClustersWithDifferentNamesStayApart() throws Exception {
    try (TestClusters blue = new TestClusters("blue");
        TestClusters green = new TestClusters("green")) {
      // Start both at the same time, each listing both seeds, so that they do meet on the wire.
      List<String> bothSeeds = List.of(blue.members().get(0), green.members().get(0));
      ClusterOptions blueOptions = blue.options(ClusterRole.DATA);
      ClusterOptions greenOptions = green.options(ClusterRole.DATA);
      CompletableFuture<TellerCluster> blueData =
          CompletableFuture.supplyAsync(
              () ->
                  blue.start(
                      new ClusterOptions(
                          blueOptions.name(),
                          bothSeeds,
                          "127.0.0.1",
                          blueOptions.port(),
                          ClusterRole.DATA)));
      CompletableFuture<TellerCluster> greenData =
          CompletableFuture.supplyAsync(
              () ->
                  green.start(
                      new ClusterOptions(
                          greenOptions.name(),
                          bothSeeds,
                          "127.0.0.1",
                          greenOptions.port(),
                          ClusterRole.DATA)));
      TellerCluster b = blueData.get(60, TimeUnit.SECONDS);
      TellerCluster g = greenData.get(60, TimeUnit.SECONDS);
      TellerCluster blueLite = blue.start(ClusterRole.LITE);

      assertThat(b.memberCount()).isEqualTo(2);
      assertThat(blueLite.memberCount()).isEqualTo(2);
      assertThat(g.memberCount()).isEqualTo(1);
      assertThat(g.hazelcast().getConfig().getClusterName())
          .isNotEqualTo(b.hazelcast().getConfig().getClusterName());
    }
  }

  @Test
  void liteMembersSeeTheDataMemberLeaveWithinFiveSeconds() throws Exception {
    try (TestClusters clusters = new TestClusters("leave")) {
      TellerCluster data = clusters.start(ClusterRole.DATA);
      TellerCluster lite1 = clusters.start(ClusterRole.LITE);
      TellerCluster lite2 = clusters.start(ClusterRole.LITE);
      assertThat(lite1.memberCount()).isEqualTo(3);

      long stoppedAt = System.nanoTime();
      clusters.stop(data);
      for (TellerCluster lite : new TellerCluster[] {lite1, lite2}) {
        awaitMemberCount(lite, 2, Duration.ofSeconds(5));
      }
      assertThat(Duration.ofNanos(System.nanoTime() - stoppedAt)).isLessThan(Duration.ofSeconds(5));
    }
  }

  private static void awaitMemberCount(TellerCluster node, int expected, Duration within)
      throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (node.memberCount() != expected && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(node.memberCount()).isEqualTo(expected);
  }

  /**
   * What docker-compose and Kubernetes give: members named by host name, at an address that is not
   * the joining node's own. Until this was fixed Hazelcast dropped such a member from the join list
   * (interfaces were enabled), and the lite member never joined; on one loopback address the name
   * resolved to the node's own address and the bug could not show.
   */
  @Test
  void aMemberGivenByHostNameAtAnotherAddressIsFound() throws Exception {
    try (TestClusters clusters = new TestClusters("by-name")) {
      TellerCluster data = clusters.start(ClusterRole.DATA);
      int dataPort = data.hazelcast().getCluster().getLocalMember().getAddress().getPort();
      ClusterOptions lite =
          new ClusterOptions(
              clusters.name(),
              List.of("localhost:" + dataPort),
              "127.0.0.2",
              TestClusters.freePort(),
              ClusterRole.LITE);

      TellerCluster joined = clusters.start(lite);

      assertThat(joined.memberCount()).isEqualTo(2);
      assertThat(joined.hazelcast().getCluster().getLocalMember().getAddress().getHost())
          .isEqualTo("127.0.0.2");
    }
  }
}
