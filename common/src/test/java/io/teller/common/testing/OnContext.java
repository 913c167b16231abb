package io.teller.common.testing;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.function.Supplier;

/**
 * Runs a Vert.x client call on a Vert.x event loop rather than on the test's thread. Vert.x 5.0.7's
 * HTTP client, driven from a thread that is not Vert.x's, now and then loses a response that did
 * arrive (the request's future never completes): seen here once in a few hundred requests on a busy
 * machine, never when the same calls start on a Vert.x context (hundreds of thousands), nor with
 * the JDK's client. Test clients go through this, so that a test waits on the balancer, not on that
 * race.
 */
public final class OnContext {

  private OnContext() {}

  /**
   * Starts {@code call} on an event loop of {@code vertx}; the future completes with its result.
   */
  public static <T> Future<T> run(Vertx vertx, Supplier<Future<T>> call) {
    Promise<T> promise = Promise.promise();
    vertx
        .getOrCreateContext()
        .runOnContext(
            v -> {
              try {
                call.get().onComplete(promise);
              } catch (RuntimeException e) {
                promise.tryFail(e);
              }
            });
    return promise.future();
  }
}
