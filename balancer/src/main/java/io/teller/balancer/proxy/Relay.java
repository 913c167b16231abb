package io.teller.balancer.proxy;

import io.teller.balancer.resilience.Failure;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;

/**
 * The fourth stage, for an ordinary answer: the instance's status and end-to-end headers, then its
 * body streamed to the client with back-pressure both ways; an answer that came whole in one read
 * goes to the client in one write. An answer cut short by the instance fails the stage (the
 * client's stream is then cut, never ended as if complete).
 */
final class Relay {

  private final String scheme;

  Relay(String scheme) {
    this.scheme = scheme;
  }

  /** Completes when the answer has been sent whole. */
  Future<Void> stream(Exchange exchange, HttpClientResponse answer) {
    HttpServerResponse response = exchange.response;
    response.setStatusCode(answer.statusCode());
    Headers.copyEndToEnd(answer.headers(), response.headers());
    exchange.stick(scheme);
    if (exchange.explain != null) {
      response.putHeader(Explain.HEADER, exchange.explain.render());
    }
    if (exchange.request.version() != HttpVersion.HTTP_2
        && !response.headers().contains(HttpHeaders.CONTENT_LENGTH)
        && exchange.request.method() != HttpMethod.HEAD
        && answer.statusCode() != 204
        && answer.statusCode() != 304) {
      response.setChunked(true);
    }
    UpstreamCall call = answer instanceof UpstreamCall upstream ? upstream : null;
    Future<Void> sent;
    if (call != null && call.whole()) {
      // All of it came in one read: one write to the client, no stream to pipe.
      Buffer body = call.takeWhole();
      sent = body == null ? response.end() : response.end(body);
    } else {
      if (call != null && call.bodyPending()) {
        // The body has not begun: the client gets the head now, as HAProxy and nginx pass it on,
        // not when the first part of the body comes (which may be much later: a long poll, SSE).
        response.writeHead();
      }
      sent = answer.pipe().endOnFailure(false).to(response);
    }
    return sent.recover(
        cause ->
            Future.failedFuture(
                exchange.cancelled() != null || response.closed()
                    ? exchange.explain(cause)
                    : Failure.cutShort(exchange.service(), exchange.instanceId(), cause)));
  }
}
