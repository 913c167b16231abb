package io.teller.registry.api;

import io.teller.common.cluster.TellerCluster;
import io.teller.common.load.LoadBoard;
import io.teller.common.load.LoadFeed;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/**
 * What the balancers report of their in-flight requests, so that the instance list shows each
 * instance's load: its total and each balancer's share (kept current by a {@link LoadFeed}).
 */
public final class BalancerLoads {

  private final Vertx vertx;
  private final TellerCluster cluster;
  private final LoadBoard board = new LoadBoard();
  private LoadFeed feed;

  public BalancerLoads(Vertx vertx, TellerCluster cluster) {
    this.vertx = vertx;
    this.cluster = cluster;
  }

  public Future<Void> start() {
    feed =
        new LoadFeed(vertx, cluster.hazelcast(), cluster::memberId, board, report -> {}, () -> {});
    return feed.start();
  }

  public Future<Void> stop() {
    return feed == null ? Future.succeededFuture() : feed.stop();
  }

  /** Adds {@code inFlight: {total, byBalancer: {member: count}}} to an instance's JSON. */
  public JsonObject withLoad(JsonObject instance) {
    String id = instance.getString("id");
    JsonObject byBalancer = new JsonObject();
    board.byMember(id).forEach(byBalancer::put);
    return instance.put(
        "inFlight", new JsonObject().put("total", board.total(id)).put("byBalancer", byBalancer));
  }
}
