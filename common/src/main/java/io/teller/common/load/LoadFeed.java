package io.teller.common.load;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Keeps a {@link LoadBoard} current from the cluster: applies every other member's {@link
 * LoadReport}, forgets a member the moment it leaves, and says hello at start so that every
 * balancer answers with its full counts. Used by the balancers (for their picks) and the registry
 * (to show the load). Start it on the event loop that owns the board.
 */
public final class LoadFeed {

  private final Vertx vertx;
  private final HazelcastInstance hazelcast;
  private final Supplier<String> self;
  private final LoadBoard board;
  private final Consumer<LoadReport> applied;
  private final Runnable peerHello;
  private MessageConsumer<JsonObject> consumer;
  private UUID listener;

  /**
   * @param self this member's id, read each time (a member that merges back into a cluster after a
   *     split gets a new one): its own reports and hello are ignored
   * @param applied told of each report applied (newer than what was known)
   * @param peerHello told when another member says hello or joins the cluster (it wants full
   *     counts: a registry that restarted, or members merged back after a split)
   */
  public LoadFeed(
      Vertx vertx,
      HazelcastInstance hazelcast,
      Supplier<String> self,
      LoadBoard board,
      Consumer<LoadReport> applied,
      Runnable peerHello) {
    this.vertx = vertx;
    this.hazelcast = hazelcast;
    this.self = self;
    this.board = board;
    this.applied = applied;
    this.peerHello = peerHello;
  }

  public Future<Void> start() {
    Context context = vertx.getOrCreateContext();
    consumer =
        vertx
            .eventBus()
            .consumer(
                LoadReport.ADDRESS,
                message -> {
                  String hello = message.body().getString("hello");
                  if (hello != null) {
                    if (!hello.equals(self.get())) {
                      peerHello.run();
                    }
                    return;
                  }
                  LoadReport report = LoadReport.fromJson(message.body());
                  if (!report.member().equals(self.get()) && board.apply(report)) {
                    applied.accept(report);
                  }
                });
    listener =
        hazelcast
            .getCluster()
            .addMembershipListener(
                new MembershipListener() {
                  @Override
                  public void memberAdded(MembershipEvent event) {
                    context.runOnContext(v -> peerHello.run());
                  }

                  @Override
                  public void memberRemoved(MembershipEvent event) {
                    String gone = event.getMember().getUuid().toString();
                    context.runOnContext(v -> board.forget(gone));
                  }
                });
    return consumer
        .completion()
        .onSuccess(v -> vertx.eventBus().publish(LoadReport.ADDRESS, LoadReport.hello(self.get())));
  }

  public Future<Void> stop() {
    try {
      hazelcast.getCluster().removeMembershipListener(listener);
    } catch (RuntimeException e) {
      // Hazelcast is already shutting down.
    }
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }
}
