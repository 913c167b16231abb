package io.teller.registry.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.map.IMap;
import io.teller.common.cluster.ClusterRole;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.model.Change;
import io.teller.common.model.Instance;
import io.teller.common.model.RegistryFailure;
import io.teller.common.model.Service;
import io.teller.common.testing.OnContext;
import io.teller.common.testing.Poll;
import io.teller.common.testing.TestClusters;
import io.teller.registry.core.WriteCodec.Written;
import io.teller.registry.testing.Http;
import io.teller.registry.testing.RegistryNodes;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Commands that wait together are applied as one batch, each as if alone: its own answer, its own
 * revisions in arrival order, its changes published only if it succeeded. A real cluster: one
 * registry node and a lite member sending writes; the test holds Hazelcast's lock on the map entry
 * a first write changes, so that the commands sent meanwhile queue up on the leader and are applied
 * together once the lock is let go.
 */
@Timeout(120)
class BatchedWritesTest {

  @TempDir static Path dataDir;
  static RegistryNodes nodes;
  static RegistryNodes.Node node;
  static TellerCluster lite;
  static WriteClient client;
  static final AtomicInteger arrived = new AtomicInteger();
  static List<Change> changes;

  @BeforeAll
  static void start() throws Exception {
    nodes = new RegistryNodes("batch", dataDir);
    node = nodes.start();
    node.cluster()
        .vertx()
        .eventBus()
        .addInboundInterceptor(
            delivery -> {
              if (delivery.message().address().startsWith(WriteCodec.ADDRESS_PREFIX)) {
                arrived.incrementAndGet();
              }
              delivery.next();
            });
    lite = nodes.clusters().start(ClusterRole.LITE);
    changes = RegistryNodes.changesSeenBy(lite);
    client = new WriteClient(lite.vertx(), lite.hazelcast());
  }

  @AfterAll
  static void stop() {
    nodes.close();
  }

  @Test
  void aBatchMixingFailingAndSucceedingCommandsAnswersEachOnItsOwn() throws Exception {
    int tcpPort = TestClusters.freePort();
    IMap<String, String> services = lite.hazelcast().getMap("teller.services");
    Future<Written<WriteReply.ServiceStored>> held;
    Future<Written<WriteReply.InstanceStored>> first;
    Future<Written<WriteReply.Deregistered>> unknown;
    Future<Written<WriteReply.ServiceStored>> clash;
    Future<Written<WriteReply.InstanceStored>> second;
    Future<Written<WriteReply.WeightSet>> weight;
    Future<Written<WriteReply.ServiceDeleted>> nothing;
    services.lock("held");
    try {
      int before = arrived.get();
      held = send(new WriteCommand.PutService(tcpService("held", tcpPort)));
      Poll.until(Duration.ofSeconds(10), () -> assertThat(arrived.get()).isEqualTo(before + 1));
      first = send(register(8601));
      unknown = send(new WriteCommand.Deregister("mixed", "mixed-ffffffffff", false));
      clash = send(new WriteCommand.PutService(tcpService("clash", tcpPort)));
      second = send(register(8602));
      // The instance the first registration of this batch made, found by this later command.
      weight = send(new WriteCommand.SetWeight("mixed", idOf(8601), 3));
      nothing = send(new WriteCommand.DeleteService("nothing-here"));
      Poll.until(Duration.ofSeconds(10), () -> assertThat(arrived.get()).isEqualTo(before + 7));
    } finally {
      services.unlock("held");
    }

    assertThat(await(held).reply().created()).isTrue();
    Written<WriteReply.InstanceStored> one = await(first);
    Written<WriteReply.InstanceStored> two = await(second);
    Written<WriteReply.WeightSet> set = await(weight);
    assertThat(one.reply().created()).isTrue();
    assertThat(two.reply().created()).isTrue();
    assertThat(set.reply().changed()).isTrue();
    assertThat(set.reply().instance().weight()).isEqualTo(3);
    assertThat(failure(unknown).status()).isEqualTo(404);
    RegistryFailure refused = failure(clash);
    assertThat(refused.status()).isEqualTo(400);
    assertThat(refused.field()).isEqualTo("tcpPort");
    assertThat(failure(nothing).status()).isEqualTo(404);
    // Revisions in arrival order.
    assertThat(await(held).lastRevision()).isLessThan(one.lastRevision());
    assertThat(one.lastRevision()).isLessThan(two.lastRevision());
    assertThat(two.lastRevision()).isLessThan(set.lastRevision());

    // Published in revision order: the service made for the first registration, both instances,
    // the weight; nothing of the refused service.
    Poll.until(
        Duration.ofSeconds(5),
        () -> assertThat(changes).anyMatch(c -> c.revision() == set.lastRevision()));
    List<Change> mixed = changes.stream().filter(c -> c.service().equals("mixed")).toList();
    assertThat(mixed).extracting(Change::revision).isSorted().hasSize(4);
    assertThat(mixed)
        .extracting(Change::kind)
        .containsExactly("service", "instance", "instance", "instance");
    assertThat(mixed.get(3).revision()).isEqualTo(set.lastRevision());
    assertThat(changes).noneMatch(c -> c.service().equals("clash"));
    assertThat(Http.get(node.url("/v1/services/clash")).status()).isEqualTo(404);
    assertThat(Http.get(node.url("/v1/services/mixed/instances")).array()).hasSize(2);
  }

  private static Service tcpService(String name, int tcpPort) {
    return Service.fromJson(new JsonObject().put("tcpPort", tcpPort), name);
  }

  private static WriteCommand.Register register(int port) {
    return new WriteCommand.Register(
        "mixed",
        new Instance.Registration("127.0.0.1", port, 1, Map.of(), null),
        Instance.SOURCE_REST,
        null,
        null);
  }

  private static String idOf(int port) {
    return Instance.registered(
            "mixed",
            new Instance.Registration("127.0.0.1", port, 1, Map.of(), null),
            io.teller.common.model.InstanceStatus.HEALTHY,
            Instance.SOURCE_REST,
            null,
            java.time.Instant.now())
        .id();
  }

  private static <R extends WriteReply> Future<Written<R>> send(WriteCommand<R> command) {
    return OnContext.run(lite.vertx(), () -> client.send(command));
  }

  private static RegistryFailure failure(Future<?> future) throws Exception {
    try {
      await(future);
    } catch (Exception e) {
      return RegistryFailure.of(e);
    }
    throw new AssertionError("succeeded: " + future.result());
  }

  static <T> T await(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }
}
