package io.teller.registry;

import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The registry node's readiness, {@code GET /readyz}: {@code 200} when this node holds the
 * registry's state and the cluster is safe, {@code 503} with the reason otherwise.
 *
 * <ul>
 *   <li><b>Holds the state:</b> the API listens only once this node has restored the state from its
 *       disk or joined the cluster's, so every answer from this port says so.
 *   <li><b>The cluster is safe</b> (Hazelcast's {@code isClusterSafe}): no partition is migrating
 *       and every backup is in sync, so stopping one registry node now loses nothing.
 * </ul>
 *
 * <p>{@code /healthz} stays the liveness answer (the node runs). Readiness is what an orchestrator
 * waits for before it stops the next registry node: a StatefulSet's rolling update and a
 * PodDisruptionBudget then never take a second node while the first one's data is still moving.
 *
 * <p>Hazelcast's check asks every member and blocks, so it runs on a worker, one at a time (probes
 * that arrive meanwhile share its answer), and a check slower than {@link #CHECK_TIMEOUT_MS} is
 * answered {@code 503}.
 */
public final class Readiness {

  /** Where readiness is served, beside {@code /healthz}. */
  public static final String PATH = "/readyz";

  /** A safety check that takes longer than this answers not ready. */
  static final long CHECK_TIMEOUT_MS = 2_000;

  private final Vertx vertx;
  private final Callable<Boolean> clusterSafe;
  private final AtomicReference<Future<Boolean>> running = new AtomicReference<>();

  /** Readiness of the registry node that is this Hazelcast member. */
  public Readiness(Vertx vertx, HazelcastInstance hazelcast) {
    this(vertx, () -> hazelcast.getPartitionService().isClusterSafe());
  }

  /**
   * @param clusterSafe blocking: whether the cluster is safe now
   */
  Readiness(Vertx vertx, Callable<Boolean> clusterSafe) {
    this.vertx = vertx;
    this.clusterSafe = clusterSafe;
  }

  /** Answers a readiness probe. */
  public void handle(RoutingContext ctx) {
    check()
        .timeout(CHECK_TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .onComplete(
            checked -> {
              boolean ready = checked.succeeded() && checked.result();
              JsonObject body =
                  new JsonObject()
                      .put("status", ready ? "READY" : "NOT_READY")
                      .put("clusterSafe", checked.succeeded() && checked.result());
              if (!ready) {
                body.put("reason", reason(checked.cause()));
              }
              ctx.response().setStatusCode(ready ? 200 : 503);
              ctx.json(body);
            });
  }

  private static String reason(Throwable failure) {
    if (failure == null) {
      return "partitions are migrating or backups are not in sync: stopping a registry node now"
          + " could lose data";
    }
    if (failure instanceof TimeoutException) {
      return "the cluster's safety check did not answer within " + CHECK_TIMEOUT_MS + " ms";
    }
    return "the cluster's safety check failed: " + failure.getMessage();
  }

  /** The check under way, or a new one: never more than one worker thread held by probes. */
  Future<Boolean> check() {
    Promise<Boolean> mine = Promise.promise();
    Future<Boolean> current = running.compareAndExchange(null, mine.future());
    if (current != null) {
      return current;
    }
    vertx
        .executeBlocking(clusterSafe, false)
        .onComplete(
            result -> {
              running.set(null);
              mine.handle(result);
            });
    return mine.future();
  }
}
