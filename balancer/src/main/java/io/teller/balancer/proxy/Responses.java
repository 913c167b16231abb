package io.teller.balancer.proxy;

import io.teller.balancer.resilience.Failure;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/** The balancer's own answers to a failure: its status and one-line reason, as plain text. */
final class Responses {

  private Responses() {}

  /**
   * Answers {@code failure}; when the answer's head has already gone out, cuts the client's stream
   * instead (a body cut short must reach the client cut short); when the client is gone, nothing.
   */
  static void answer(HttpServerRequest request, Failure failure) {
    HttpServerResponse response = request.response();
    if (response.headWritten() || response.ended() || response.closed()) {
      if (!response.ended() && !response.closed()) {
        response.reset();
      }
      return;
    }
    // Always resume, ended or not: on HTTP/1.1 a request left paused also holds back the next
    // request on the same keep-alive connection, which then waits forever.
    request.resume();
    if (!request.isEnded()) {
      String length = request.getHeader("content-length");
      if ((length != null && !length.equals("0"))
          || request.headers().contains("transfer-encoding")) {
        // A body was sent and not read: don't leave it in the connection for the next request.
        response.putHeader("connection", "close");
      }
    }
    if (failure.kind() == Failure.Kind.NOT_READY) {
      response.putHeader("retry-after", "1");
    }
    plain(response, failure.status(), failure.reason());
  }

  /** A status and a one-line reason, for a request the balancer answers itself. */
  static void plain(HttpServerResponse response, int status, String reason) {
    response
        .setStatusCode(status)
        .putHeader("content-type", "text/plain; charset=utf-8")
        .putHeader("x-teller-error", "true")
        .end(reason + "\n");
  }
}
