package io.teller.registry.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.map.IMap;
import io.teller.common.cluster.ClusterRole;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.model.Change;
import io.teller.common.model.Instance;
import io.teller.common.model.Service;
import io.teller.common.testing.OnContext;
import io.teller.common.testing.Poll;
import io.teller.registry.core.WriteCodec.Written;
import io.teller.registry.testing.Http;
import io.teller.registry.testing.RegistryNodes;
import io.vertx.core.Future;
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
 * A write whose answer comes too late is sent again with the same request id, and the leader
 * applies it once, answering every attempt with the first outcome. A real cluster: one registry
 * node, and a lite member sending writes with a 300 ms timeout while the test holds Hazelcast's
 * lock on the map entry the write changes (map writes from other members wait for the lock), so
 * that the leader takes longer than the timeout and the sender retries.
 */
@Timeout(120)
class RetriedWriteTest {

  private static final long TIMEOUT_MS = 300;

  @TempDir static Path dataDir;
  static RegistryNodes nodes;
  static RegistryNodes.Node node;
  static TellerCluster lite;
  static WriteClient client;
  static final AtomicInteger sent = new AtomicInteger();
  static List<Change> changes;

  @BeforeAll
  static void start() throws Exception {
    nodes = new RegistryNodes("retry", dataDir);
    node = nodes.start();
    lite = nodes.clusters().start(ClusterRole.LITE);
    lite.vertx()
        .eventBus()
        .addOutboundInterceptor(
            delivery -> {
              if (delivery.message().address().startsWith(WriteCodec.ADDRESS_PREFIX)) {
                sent.incrementAndGet();
              }
              delivery.next();
            });
    changes = RegistryNodes.changesSeenBy(lite);
    client = new WriteClient(lite.vertx(), lite.hazelcast(), TIMEOUT_MS);
  }

  @AfterAll
  static void stop() {
    nodes.close();
  }

  @Test
  void aServiceDefinitionSentThreeTimesIsAppliedOnceAndAnsweredAsCreated() throws Exception {
    Future<Written<WriteReply.ServiceStored>> put =
        whileLocked(
            "teller.services",
            "twice",
            () -> send(new WriteCommand.PutService(Service.withDefaults("twice"))));

    Written<WriteReply.ServiceStored> written = await(put);
    assertThat(written.reply().created()).isTrue();
    assertThat(changesOf("twice")).hasSize(1);
    assertThat(changesOf("twice").get(0).revision()).isEqualTo(written.lastRevision());
    assertThat(Http.get(node.url("/v1/services/twice")).json().getLong("revision"))
        .isEqualTo(written.lastRevision());
  }

  @Test
  void aRemovalSentAgainIsAnsweredAsTheFirstAttemptWasNotAsNotFound() throws Exception {
    Written<WriteReply.InstanceStored> registered =
        await(
            send(
                new WriteCommand.Register(
                    "gone",
                    new Instance.Registration("127.0.0.1", 8500, 1, Map.of(), null),
                    Instance.SOURCE_REST,
                    null,
                    null)));
    String id = registered.reply().instance().id();

    Future<Written<WriteReply.Deregistered>> removal =
        whileLocked(
            "teller.instances", id, () -> send(new WriteCommand.Deregister("gone", id, false)));

    // Applied twice, the second attempt would find nothing and fail as not found.
    Written<WriteReply.Deregistered> removed = await(removal);
    assertThat(removed.reply().removed()).isTrue();
    assertThat(removed.reply().instance().id()).isEqualTo(id);
    assertThat(Http.get(node.url("/v1/services/gone/instances/" + id)).status()).isEqualTo(404);
  }

  @Test
  void aWeightSentAgainIsAnsweredAsChangedOnceAndMakesOneRevision() throws Exception {
    Written<WriteReply.InstanceStored> registered =
        await(
            send(
                new WriteCommand.Register(
                    "heavy",
                    new Instance.Registration("127.0.0.1", 8501, 1, Map.of(), null),
                    Instance.SOURCE_REST,
                    null,
                    null)));
    String id = registered.reply().instance().id();

    Future<Written<WriteReply.WeightSet>> weight =
        whileLocked("teller.instances", id, () -> send(new WriteCommand.SetWeight("heavy", id, 4)));

    // Applied again, the retry would find the weight already 4 and answer "not changed".
    Written<WriteReply.WeightSet> set = await(weight);
    assertThat(set.reply().changed()).isTrue();
    assertThat(set.reply().instance().weight()).isEqualTo(4);
    List<Change> changed =
        changesOf("heavy").stream()
            .filter(change -> change.revision() > registered.lastRevision())
            .toList();
    assertThat(changed).hasSize(1);
    assertThat(changed.get(0).revision()).isEqualTo(set.lastRevision());
  }

  /**
   * Starts {@code write} while this thread holds the lock on {@code key} of {@code map}, and lets
   * go once the write was sent twice more (two attempts timed out).
   */
  private static <T> Future<T> whileLocked(String map, String key, WriteStart<T> write)
      throws Exception {
    IMap<String, String> locked = lite.hazelcast().getMap(map);
    int before = sent.get();
    locked.lock(key);
    try {
      Future<T> result = write.start();
      Poll.until(
          Duration.ofSeconds(10), () -> assertThat(sent.get() - before).isGreaterThanOrEqualTo(3));
      return result;
    } finally {
      locked.unlock(key);
    }
  }

  @FunctionalInterface
  private interface WriteStart<T> {
    Future<T> start();
  }

  private static <R extends WriteReply> Future<Written<R>> send(WriteCommand<R> command) {
    return OnContext.run(lite.vertx(), () -> client.send(command));
  }

  /**
   * The changes of {@code service} once every change made before a later write arrived: changes are
   * published in revision order, and a retry applied again would come before that write.
   */
  private static List<Change> changesOf(String service) throws Exception {
    long barrier =
        await(send(new WriteCommand.PutService(Service.withDefaults("barrier")))).lastRevision();
    Poll.until(
        Duration.ofSeconds(5),
        () -> assertThat(changes).anyMatch(change -> change.revision() == barrier));
    return changes.stream().filter(change -> change.service().equals(service)).toList();
  }

  static <T> T await(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }
}
