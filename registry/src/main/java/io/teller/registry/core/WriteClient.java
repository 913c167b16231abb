package io.teller.registry.core;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import io.teller.common.model.RegistryFailure;
import io.teller.registry.core.WriteCodec.Request;
import io.teller.registry.core.WriteCodec.Written;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import java.util.UUID;

/**
 * Sends {@link WriteCommand}s from any cluster member to the writer of the leading registry node
 * (the oldest data member). A command that finds no leader (none yet, or it just left) or gets no
 * answer within its timeout is sent again for up to {@value #LEADER_WAIT_MS} ms, with the same
 * request id: the leader answers a repeated id with the first outcome ({@link RecentWrites}), so
 * that a write is applied once however often it is sent. A failure the writer replied with comes
 * back as the {@link RegistryFailure} it was.
 */
final class WriteClient {

  static final long WRITE_TIMEOUT_MS = 5_000;

  /** A restore may bring thousands of entries, applied one map round trip at a time. */
  static final long MERGE_TIMEOUT_MS = 300_000;

  static final long LEADER_WAIT_MS = 15_000;
  private static final long RETRY_DELAY_MS = 100;

  private final Vertx vertx;
  private final HazelcastInstance hazelcast;
  private final long timeoutMs;

  WriteClient(Vertx vertx, HazelcastInstance hazelcast) {
    this(vertx, hazelcast, WRITE_TIMEOUT_MS);
  }

  /** With {@code timeoutMs} per attempt instead of {@value #WRITE_TIMEOUT_MS} (tests). */
  WriteClient(Vertx vertx, HazelcastInstance hazelcast, long timeoutMs) {
    this.vertx = vertx;
    this.hazelcast = hazelcast;
    this.timeoutMs = timeoutMs;
  }

  /** Has the leader apply {@code command}; fails with a {@link RegistryFailure}. */
  <R extends WriteReply> Future<Written<R>> send(WriteCommand<R> command) {
    JsonObject encoded = WriteCodec.encode(new Request(UUID.randomUUID().toString(), command));
    long timeout =
        command instanceof WriteCommand.MergeCopy
            ? Math.max(timeoutMs, MERGE_TIMEOUT_MS)
            : timeoutMs;
    Promise<JsonObject> reply = Promise.promise();
    attempt(encoded, timeout, System.nanoTime() + LEADER_WAIT_MS * 1_000_000, reply);
    return reply.future().map(json -> WriteCodec.decodeReply(command, json));
  }

  private void attempt(JsonObject command, long timeout, long deadline, Promise<JsonObject> reply) {
    String leader = leaderNodeId();
    Future<JsonObject> answer =
        leader == null
            ? Future.failedFuture(new ReplyException(ReplyFailure.NO_HANDLERS, "no leader"))
            : vertx
                .eventBus()
                .<JsonObject>request(
                    WriteCodec.ADDRESS_PREFIX + leader,
                    command,
                    new DeliveryOptions().setSendTimeout(timeout))
                .map(message -> message.body());
    answer
        .onSuccess(reply::complete)
        .onFailure(failure -> failed(failure, command, timeout, deadline, reply));
  }

  private void failed(
      Throwable failure,
      JsonObject command,
      long timeout,
      long deadline,
      Promise<JsonObject> reply) {
    if (!(failure instanceof ReplyException sent)
        || sent.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
      reply.fail(RegistryFailure.of(failure));
    } else if (System.nanoTime() < deadline) {
      // No leader yet, it just left (the next oldest takes over), or its answer was lost.
      vertx.setTimer(RETRY_DELAY_MS, t -> attempt(command, timeout, deadline, reply));
    } else {
      reply.fail(
          RegistryFailure.unavailable(
              "the registry could not complete the request: "
                  + (sent.failureType() == ReplyFailure.TIMEOUT
                      ? "the leading registry node did not answer in time"
                      : "no registry node leads the writes")));
    }
  }

  /** The node id of the leading registry node, the oldest data member; null when there is none. */
  private String leaderNodeId() {
    try {
      for (Member member : hazelcast.getCluster().getMembers()) {
        if (!member.isLiteMember()) {
          return member.getUuid().toString();
        }
      }
    } catch (RuntimeException e) {
      // This member is leaving the cluster: there is no leader to ask from here.
    }
    return null;
  }
}
