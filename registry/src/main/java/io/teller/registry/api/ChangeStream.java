package io.teller.registry.api;

import io.teller.common.model.Change;
import io.teller.common.model.RegistryContract;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code /v1/events}: the registry's changes as server-sent events, one per change, {@code id} the
 * revision and {@code event} its kind, to at most {@code events.max.clients} clients per node (the
 * next one is answered 503).
 *
 * <p>One clustered consumer per node takes the published changes and hands each on, to this node
 * only, to every client's local consumer: a client's subscription registers nothing in the cluster.
 * A clustered consumer per client would put one Hazelcast registration per open connection into the
 * whole cluster's subscription map, which anyone able to open connections could grow; and a local
 * consumer alone would see only the changes this node publishes (Vert.x delivers a message from
 * another node to clustered consumers only).
 */
public final class ChangeStream {

  /** Where this node hands changes on to its clients; never leaves the node. */
  static final String LOCAL_ADDRESS = RegistryContract.CHANGES + ".local";

  private static final long KEEPALIVE_MS = 15_000;
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private final Vertx vertx;
  private final int maxClients;
  private final AtomicInteger clients = new AtomicInteger();
  private MessageConsumer<JsonObject> relay;

  /**
   * @param maxClients how many clients this node streams to at once
   */
  public ChangeStream(Vertx vertx, int maxClients) {
    this.vertx = vertx;
    this.maxClients = maxClients;
  }

  /** Starts taking the published changes. */
  public Future<Void> start() {
    relay =
        vertx
            .eventBus()
            .consumer(
                RegistryContract.CHANGES,
                message -> vertx.eventBus().publish(LOCAL_ADDRESS, message.body(), LOCAL));
    return relay.completion();
  }

  /** Stops taking them; the clients' connections close with the server. */
  public Future<Void> stop() {
    return relay == null ? Future.succeededFuture() : relay.unregister();
  }

  /** How many clients this node streams to now. */
  int clients() {
    return clients.get();
  }

  /** Answers {@code GET /v1/events}. */
  void handle(RoutingContext ctx) {
    if (clients.incrementAndGet() > maxClients) {
      clients.decrementAndGet();
      ctx.response().putHeader("retry-after", "5");
      Problems.send(
          ctx,
          503,
          "Service Unavailable",
          "this registry node streams changes to "
              + maxClients
              + " clients already (events.max.clients); try again later, or another node",
          null);
      return;
    }
    HttpServerResponse response = ctx.response();
    response
        .setChunked(true)
        .putHeader("content-type", "text/event-stream")
        .putHeader("cache-control", "no-cache")
        .putHeader("x-accel-buffering", "no");
    response.write(": teller registry change stream\n\n");
    MessageConsumer<JsonObject> consumer =
        vertx
            .eventBus()
            .localConsumer(
                LOCAL_ADDRESS,
                message -> {
                  Change change = Change.fromJson(message.body());
                  if (!response.writeQueueFull()) {
                    response.write(
                        "id: "
                            + change.revision()
                            + "\nevent: "
                            + change.eventName()
                            + "\ndata: "
                            + message.body().encode()
                            + "\n\n");
                  } else {
                    // A client that cannot keep up is cut off rather than buffered without bound;
                    // it reconnects and reads the snapshot.
                    response.reset();
                  }
                });
    long keepAlive = vertx.setPeriodic(KEEPALIVE_MS, t -> response.write(": keep-alive\n\n"));
    boolean[] released = {false};
    response.closeHandler(
        v -> {
          // Once, however the stream ends (the client left, it was reset, the server closed).
          if (!released[0]) {
            released[0] = true;
            clients.decrementAndGet();
            vertx.cancelTimer(keepAlive);
            consumer.unregister();
          }
        });
  }
}
