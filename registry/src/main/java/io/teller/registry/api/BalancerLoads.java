package io.teller.registry.api;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.load.LoadBoard;
import io.teller.common.load.LoadFeed;
import io.teller.common.load.TrafficReport;
import io.teller.registry.load.TrafficBoard;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * What the balancers report, so that the instance list and the dashboard show each instance's load:
 * its in-flight requests, total and each balancer's share (from the {@code LoadReport}s that the
 * balancers push within milliseconds, kept by a {@link LoadFeed}), and its traffic (from the {@link
 * TrafficReport}s they publish once a second, kept by a {@link TrafficBoard}). Confined to the
 * registry verticle's event loop.
 */
public final class BalancerLoads {

  private static final long SWEEP_MS = 1_000;

  private final Vertx vertx;
  private final TellerCluster cluster;
  private final Set<String> touched = new HashSet<>();
  private final LoadBoard board = new LoadBoard(touched::add);
  private final TrafficBoard traffic = new TrafficBoard(touched::add);
  private LoadFeed feed;
  private MessageConsumer<JsonObject> trafficConsumer;
  private UUID listener;
  private long sweepTimer = -1;

  public BalancerLoads(Vertx vertx, TellerCluster cluster) {
    this.vertx = vertx;
    this.cluster = cluster;
  }

  public Future<Void> start() {
    feed =
        new LoadFeed(vertx, cluster.hazelcast(), cluster::memberId, board, report -> {}, () -> {});
    Context context = vertx.getOrCreateContext();
    trafficConsumer =
        vertx
            .eventBus()
            .consumer(
                TrafficReport.ADDRESS,
                message ->
                    traffic.apply(
                        TrafficReport.fromJson(message.body()), System.currentTimeMillis()));
    listener =
        cluster
            .hazelcast()
            .getCluster()
            .addMembershipListener(
                new MembershipListener() {
                  @Override
                  public void memberAdded(MembershipEvent event) {}

                  @Override
                  public void memberRemoved(MembershipEvent event) {
                    String gone = event.getMember().getUuid().toString();
                    context.runOnContext(v -> traffic.forget(gone));
                  }
                });
    sweepTimer = vertx.setPeriodic(SWEEP_MS, t -> traffic.sweep(System.currentTimeMillis()));
    return Future.all(feed.start(), trafficConsumer.completion()).mapEmpty();
  }

  public Future<Void> stop() {
    vertx.cancelTimer(sweepTimer);
    try {
      cluster.hazelcast().getCluster().removeMembershipListener(listener);
    } catch (RuntimeException e) {
      // Hazelcast is already shutting down.
    }
    return Future.join(
            feed == null ? Future.succeededFuture() : feed.stop(),
            trafficConsumer == null ? Future.succeededFuture() : trafficConsumer.unregister())
        .mapEmpty();
  }

  /** The balancers' in-flight counts. */
  public LoadBoard inFlight() {
    return board;
  }

  /** The balancers' traffic figures. */
  public TrafficBoard traffic() {
    return traffic;
  }

  /**
   * Takes the ids of the instances whose in-flight counts or traffic may have changed since the
   * last call.
   */
  public Set<String> takeTouched() {
    Set<String> taken = Set.copyOf(touched);
    touched.clear();
    return taken;
  }

  /**
   * Adds {@code inFlight: {total, byBalancer: {member: count}}} and {@code traffic} (rates, errors,
   * latency) to an instance's JSON.
   */
  public JsonObject withLoad(JsonObject instance) {
    String id = instance.getString("id");
    JsonObject byBalancer = new JsonObject();
    board.byMember(id).forEach(byBalancer::put);
    return instance
        .put(
            "inFlight",
            new JsonObject().put("total", board.total(id)).put("byBalancer", byBalancer))
        .put("traffic", traffic.figures(id, System.currentTimeMillis()).toJson());
  }

  /** The balancers that reported lately: member, address, connections, rate, in flight. */
  public JsonArray balancers() {
    Map<String, String> addresses = new java.util.HashMap<>();
    for (Member member : cluster.hazelcast().getCluster().getMembers()) {
      addresses.put(
          member.getUuid().toString(),
          member.getAddress().getHost() + ":" + member.getAddress().getPort());
    }
    JsonArray list = new JsonArray();
    traffic
        .balancers()
        .forEach(
            (member, b) ->
                list.add(
                    new JsonObject()
                        .put("member", member)
                        .put("address", addresses.get(member))
                        .put("connections", b.last().connections())
                        .put("requestsPerSecond", TrafficBoard.round(b.requestsPerSecond()))
                        .put("inFlight", board.memberTotal(member))
                        .put("reportedAt", Instant.ofEpochMilli(b.last().atMillis()).toString())));
    return list;
  }
}
