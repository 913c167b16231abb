package io.teller.balancer.proxy;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.net.ConnectException;
import java.util.concurrent.TimeoutException;

/** The balancer's own answers: a status and a one-line reason, as plain text. */
final class Responses {

  private Responses() {}

  static void error(HttpServerRequest request, int status, String reason) {
    HttpServerResponse response = request.response();
    if (response.headWritten() || response.ended() || response.closed()) {
      // Too late for a status: the client sees the stream cut instead.
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
    response
        .setStatusCode(status)
        .putHeader("content-type", "text/plain; charset=utf-8")
        .putHeader("x-teller-error", "true")
        .end(reason + "\n");
  }

  static String reason(Throwable failure) {
    if (failure instanceof ConnectException) {
      return "connection refused";
    }
    if (failure instanceof TimeoutException) {
      return "timed out";
    }
    String message = failure.getMessage();
    return message == null
        ? failure.getClass().getSimpleName()
        : message.lines().findFirst().orElse("");
  }
}
