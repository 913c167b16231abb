package io.teller.registry.api;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.load.LoadBoard;
import io.teller.common.load.LoadReport;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.UUID;

/**
 * What the balancers report of their in-flight requests, so that the instance list shows each
 * instance's load: its total and each balancer's share. Listens to the balancers' load reports
 * (it says hello at start, so every balancer sends its full counts) and forgets a balancer that
 * leaves the cluster.
 */
public final class BalancerLoads {

  private final Vertx vertx;
  private final TellerCluster cluster;
  private final LoadBoard board = new LoadBoard();
  private MessageConsumer<JsonObject> consumer;
  private UUID listener;

  public BalancerLoads(Vertx vertx, TellerCluster cluster) {
    this.vertx = vertx;
    this.cluster = cluster;
  }

  public Future<Void> start() {
    Context context = vertx.getOrCreateContext();
    consumer = vertx.eventBus().consumer(LoadReport.ADDRESS, message -> {
      if (!message.body().containsKey("hello")) {
        board.apply(LoadReport.fromJson(message.body()));
      }
    });
    listener = cluster.hazelcast().getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {}

      @Override
      public void memberRemoved(MembershipEvent event) {
        String gone = event.getMember().getUuid().toString();
        context.runOnContext(v -> board.forget(gone));
      }
    });
    return consumer.completion().onSuccess(v ->
        vertx.eventBus().publish(LoadReport.ADDRESS, LoadReport.hello(cluster.memberId())));
  }

  public Future<Void> stop() {
    try {
      cluster.hazelcast().getCluster().removeMembershipListener(listener);
    } catch (RuntimeException e) {
      // Hazelcast is already shutting down.
    }
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }

  /** Adds {@code inFlight: {total, byBalancer: {member: count}}} to an instance's JSON. */
  public JsonObject withLoad(JsonObject instance) {
    String id = instance.getString("id");
    JsonObject byBalancer = new JsonObject();
    board.byMember(id).forEach(byBalancer::put);
    return instance.put("inFlight", new JsonObject().put("total", board.total(id)).put("byBalancer", byBalancer));
  }
}
