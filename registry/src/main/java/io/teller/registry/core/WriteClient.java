package io.teller.registry.core;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import io.teller.common.model.RegistryFailure;
import io.teller.registry.core.WriteCodec.Request;
import io.teller.registry.core.WriteCodec.Written;
import io.vertx.core.Context;
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
  private volatile LocalWriter local;

  /** This node's writer, which a command goes to directly while this node leads. */
  private record LocalWriter(String nodeId, Context context, RegistryWriter writer) {}

  WriteClient(Vertx vertx, HazelcastInstance hazelcast) {
    this(vertx, hazelcast, WRITE_TIMEOUT_MS);
  }

  /** With {@code timeoutMs} per attempt instead of {@value #WRITE_TIMEOUT_MS} (tests). */
  WriteClient(Vertx vertx, HazelcastInstance hazelcast, long timeoutMs) {
    this.vertx = vertx;
    this.hazelcast = hazelcast;
    this.timeoutMs = timeoutMs;
  }

  /**
   * Sends commands to {@code writer} directly, without the event bus's encoding and copies, while
   * {@code nodeId} (this node) leads; all null: no more. The writer runs on {@code context}.
   */
  void local(String nodeId, Context context, RegistryWriter writer) {
    this.local = nodeId == null ? null : new LocalWriter(nodeId, context, writer);
  }

  /** Has the leader apply {@code command}; fails with a {@link RegistryFailure}. */
  <R extends WriteReply> Future<Written<R>> send(WriteCommand<R> command) {
    Outgoing<R> outgoing =
        new Outgoing<>(command, new Request(UUID.randomUUID().toString(), command));
    long timeout =
        command instanceof WriteCommand.MergeCopy
            ? Math.max(timeoutMs, MERGE_TIMEOUT_MS)
            : timeoutMs;
    Promise<Written<R>> reply = Promise.promise();
    attempt(outgoing, timeout, System.nanoTime() + LEADER_WAIT_MS * 1_000_000, reply);
    return reply.future();
  }

  /** A command on its way, encoded for the event bus only if it goes there. */
  private static final class Outgoing<R extends WriteReply> {
    final WriteCommand<R> command;
    final Request request;
    private JsonObject encoded;

    Outgoing(WriteCommand<R> command, Request request) {
      this.command = command;
      this.request = request;
    }

    JsonObject encoded() {
      if (encoded == null) {
        encoded = WriteCodec.encode(request);
      }
      return encoded;
    }
  }

  private <R extends WriteReply> void attempt(
      Outgoing<R> command, long timeout, long deadline, Promise<Written<R>> reply) {
    String leader = leaderNodeId();
    LocalWriter here = local;
    Future<Written<R>> answer;
    if (leader == null) {
      answer = Future.failedFuture(new ReplyException(ReplyFailure.NO_HANDLERS, "no leader"));
    } else if (here != null && leader.equals(here.nodeId())) {
      answer = direct(here, command, timeout);
    } else {
      answer =
          vertx
              .eventBus()
              .<JsonObject>request(
                  WriteCodec.ADDRESS_PREFIX + leader,
                  command.encoded(),
                  new DeliveryOptions().setSendTimeout(timeout))
              .map(message -> WriteCodec.decodeReply(command.command, message.body()));
    }
    answer
        .onSuccess(reply::complete)
        .onFailure(failure -> failed(failure, command, timeout, deadline, reply));
  }

  /**
   * The command applied by this node's writer, as the event bus would have had it: a failure as the
   * writer's reply carries it, no answer within {@code timeout} as a timed-out request (sent again
   * with the same id), the outcome on the caller's context.
   */
  @SuppressWarnings("unchecked")
  private <R extends WriteReply> Future<Written<R>> direct(
      LocalWriter here, Outgoing<R> command, long timeout) {
    Context caller = vertx.getOrCreateContext();
    Promise<Written<R>> outcome = Promise.promise();
    long timer =
        vertx.setTimer(
            timeout, t -> outcome.tryFail(new ReplyException(ReplyFailure.TIMEOUT, "timed out")));
    Runnable submit =
        () ->
            here.writer()
                .submit(command.request)
                .onComplete(
                    done -> {
                      vertx.cancelTimer(timer);
                      Runnable answer =
                          () -> {
                            if (done.succeeded()) {
                              outcome.tryComplete((Written<R>) done.result());
                            } else {
                              outcome.tryFail(RegistryFailure.of(done.cause()).asReply());
                            }
                          };
                      if (caller == here.context()) {
                        answer.run();
                      } else {
                        caller.runOnContext(v -> answer.run());
                      }
                    });
    // The writer's record of recent requests is confined to its context.
    if (caller == here.context() && Context.isOnEventLoopThread()) {
      submit.run();
    } else {
      here.context().runOnContext(v -> submit.run());
    }
    return outcome.future();
  }

  private <R extends WriteReply> void failed(
      Throwable failure,
      Outgoing<R> command,
      long timeout,
      long deadline,
      Promise<Written<R>> reply) {
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
