package io.teller.balancer.proxy;

import io.teller.balancer.resilience.Failure;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;

/** The balancer's own answers to a failure: its status and one-line reason, as plain text. */
final class Responses {

  private Responses() {}

  /**
   * Answers {@code failure}; when the answer's head has already gone out, cuts the client's stream
   * instead (a body cut short must reach the client cut short); when the client is gone, nothing.
   */
  static void answer(HttpServerRequest request, Failure failure, Explain explain) {
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
    // A body sent and not read must not be left in the connection for the next request to be
    // parsed from, and a refused request ends its connection: Vert.x keeps an HTTP/1.x connection
    // open whatever the answer's Connection field says, so it is closed here once the answer is
    // out. (HTTP/2 has no Connection field, and one stream's failure ends only that stream.)
    boolean close = failure.kind() == Failure.Kind.REJECTED;
    if (!request.isEnded()) {
      String length = request.getHeader("content-length");
      if ((length != null && !length.equals("0"))
          || request.headers().contains("transfer-encoding")) {
        close = true;
      }
    }
    close = close && request.version() != HttpVersion.HTTP_2;
    if (close) {
      response.putHeader("connection", "close");
    }
    if (explain != null) {
      explain.attempt("balancer", "answered " + failure.status() + " (" + failure.reason() + ")");
      response.putHeader(Explain.HEADER, explain.render());
    }
    if (failure.kind() == Failure.Kind.NOT_READY) {
      response.putHeader("retry-after", "1");
    }
    Future<Void> answered = plain(response, failure.status(), failure.reason());
    if (close) {
      answered.onComplete(done -> request.connection().close());
    }
  }

  /** A status and a one-line reason, for a request the balancer answers itself. */
  static Future<Void> plain(HttpServerResponse response, int status, String reason) {
    return response
        .setStatusCode(status)
        .putHeader("content-type", "text/plain; charset=utf-8")
        .putHeader("x-teller-error", "true")
        .end(reason + "\n");
  }
}
