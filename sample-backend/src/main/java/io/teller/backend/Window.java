package io.teller.backend;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A teller window: serves at most {@code limit} requests at once and lines the others up, first
 * come first served. A request leaves the window when its response ends or its connection closes,
 * whichever comes first, exactly once. Confined to one Vert.x context (the verticle's event loop),
 * so its counters need no synchronisation.
 */
final class Window {

  private record Waiting(HttpServerRequest request, Handler<HttpServerRequest> serve) {}

  private final int limit;
  private final Deque<Waiting> line = new ArrayDeque<>();
  private int inFlight;
  private int maxInFlight;
  private long served;
  private long waited;
  private Promise<Void> idle;

  /**
   * @param limit requests served at once; 0 for no limit
   */
  Window(int limit) {
    this.limit = limit;
  }

  /** Serves {@code request} with {@code serve} now, or once a place at the window is free. */
  void admit(HttpServerRequest request, Handler<HttpServerRequest> serve) {
    if (hasRoom()) {
      enter(request, serve);
      return;
    }
    waited++;
    // Nothing is read from a waiting request until it is served.
    request.pause();
    line.add(new Waiting(request, serve));
  }

  private boolean hasRoom() {
    return limit == 0 || inFlight < limit;
  }

  private void enter(HttpServerRequest request, Handler<HttpServerRequest> serve) {
    inFlight++;
    served++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    HttpServerResponse response = request.response();
    boolean[] left = {false};
    Handler<Void> leave =
        v -> {
          if (!left[0]) {
            left[0] = true;
            inFlight--;
            next();
          }
        };
    response.endHandler(leave);
    response.closeHandler(leave);
    serve.handle(request);
  }

  private void next() {
    while (!line.isEmpty() && hasRoom()) {
      Waiting waiting = line.poll();
      // A client that gave up while in line is not served.
      if (!waiting.request().response().closed()) {
        // Served first, resumed after: the body's handlers are in place before any of it flows.
        enter(waiting.request(), waiting.serve());
        waiting.request().resume();
      }
    }
    if (idle != null && open() == 0) {
      idle.complete();
      idle = null;
    }
  }

  /** Requests being served or waiting in line. */
  int open() {
    return inFlight + line.size();
  }

  /** Completes when no request is being served or waiting. */
  Future<Void> idle() {
    if (open() == 0) {
      return Future.succeededFuture();
    }
    if (idle == null) {
      idle = Promise.promise();
    }
    return idle.future();
  }

  int limit() {
    return limit;
  }

  int inFlight() {
    return inFlight;
  }

  int queued() {
    return line.size();
  }

  int maxInFlight() {
    return maxInFlight;
  }

  long served() {
    return served;
  }

  long waited() {
    return waited;
  }
}
