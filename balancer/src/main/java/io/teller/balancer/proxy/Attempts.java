package io.teller.balancer.proxy;

import io.teller.balancer.counting.InFlight;
import io.teller.balancer.resilience.Failure;
import io.teller.balancer.resilience.Resilience;
import io.teller.balancer.strategy.Endpoint;
import io.teller.balancer.strategy.LoadCounts;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.StreamResetException;
import io.vertx.core.streams.WriteStream;
import java.util.function.BooleanSupplier;

/**
 * The third stage: gets the request an answer (status and headers) from an instance. An attempt
 * picks an instance with the service's strategy, takes a lease on its in-flight count, connects (or
 * takes a pooled connection), sends the request and its body, and waits for the answer's headers,
 * within the response timeout once the body is sent. A failed attempt is recorded, and the next one
 * goes to another instance when the {@link Resilience} policy allows it; otherwise the stage fails
 * with the attempt's failure.
 */
final class Attempts {

  private final BackendClients clients;
  private final InFlight inFlight;
  private final LoadCounts counts;
  private final Resilience resilience;
  private final ResponseDeadlines deadlines;

  Attempts(
      BackendClients clients,
      InFlight inFlight,
      LoadCounts counts,
      Resilience resilience,
      ResponseDeadlines deadlines) {
    this.clients = clients;
    this.inFlight = inFlight;
    this.counts = counts;
    this.resilience = resilience;
    this.deadlines = deadlines;
  }

  /** The instance's answer, or the failure of the last attempt. */
  Future<HttpClientResponse> run(Exchange exchange) {
    exchange.answer = Promise.promise();
    next(exchange);
    return exchange.answer.future();
  }

  private void next(Exchange exchange) {
    Endpoint endpoint = exchange.pool.picker().pick(exchange);
    if (exchange.explain != null) {
      exchange.explain.picked(
          exchange.pool,
          endpoint,
          exchange.excluded(),
          exchange.stickyEndpointId(),
          inFlight,
          counts,
          resilience);
    }
    if (endpoint == null) {
      exchange.answer.fail(
          exchange.lastFailure != null
              ? exchange.lastFailure
              : Failure.noInstance(exchange.service()));
      return;
    }
    exchange.attempt(endpoint, inFlight.acquire(endpoint.id()));
    if (!exchange.upgrade && exchange.request.method() != HttpMethod.CONNECT) {
      clients
          .upstream(exchange.connectMillis, exchange.idleMillis)
          .acquire(endpoint.host(), endpoint.port())
          .onComplete(acquired -> acquired(exchange, acquired));
      return;
    }
    // An upgrade (or an HTTP/2 CONNECT) needs Vert.x's client, which makes the agreed tunnel.
    RequestOptions options =
        new RequestOptions()
            .setHost(endpoint.host())
            .setPort(endpoint.port())
            .setMethod(exchange.request.method())
            .setURI(exchange.uri)
            .setHeaders(exchange.headers)
            // Bounds the wait for a pooled connection too, not only the TCP connect.
            .setConnectTimeout(exchange.connectMillis);
    clients
        .get(exchange.connectMillis, exchange.idleMillis)
        .request(options)
        .onComplete(connected -> connected(exchange, connected));
  }

  private void acquired(Exchange exchange, AsyncResult<UpstreamConnection> acquired) {
    if (acquired.failed()) {
      failed(
          exchange, Failure.connect(exchange.service(), exchange.instanceId(), acquired.cause()));
      return;
    }
    UpstreamConnection connection = acquired.result();
    if (exchange.cancelled() != null) {
      connection.upstream.release(connection, true);
      failed(exchange, exchange.cancelled());
      return;
    }
    MultiMap headers = exchange.headers;
    if (exchange.request.authority() == null) {
      // An HTTP/1.0 request without a Host (Admission sets it from the authority otherwise): this
      // attempt's instance address, as Vert.x's client would send.
      headers.set(HttpHeaders.HOST, hostHeader(exchange.endpoint));
    }
    if (!exchange.bodyless && !headers.contains(HttpHeaders.CONTENT_LENGTH)) {
      headers.set(HttpHeaders.TRANSFER_ENCODING, HttpHeaders.CHUNKED);
    }
    UpstreamCall call =
        connection.send(exchange.request.method(), exchange.uri, headers, exchange.bodyless);
    exchange.call = call;
    if (exchange.bodyless) {
      deadlines.add(exchange);
      exchange.request.resume();
    } else {
      upload(exchange, call.requestBody(), () -> exchange.call == call, call::reset);
    }
    call.answer().onComplete(answered -> answered(exchange, answered));
  }

  private static String hostHeader(Endpoint endpoint) {
    String host = endpoint.host();
    return (host.indexOf(':') >= 0 ? '[' + host + ']' : host) + ':' + endpoint.port();
  }

  private void connected(Exchange exchange, AsyncResult<HttpClientRequest> connected) {
    if (connected.failed()) {
      failed(
          exchange, Failure.connect(exchange.service(), exchange.instanceId(), connected.cause()));
      return;
    }
    HttpClientRequest backend = connected.result();
    exchange.backend = backend;
    if (exchange.cancelled() != null) {
      backend.reset();
      failed(exchange, exchange.cancelled());
      return;
    }
    Future<HttpClientResponse> answer;
    if (exchange.upgrade || exchange.bodyless) {
      deadlines.add(exchange);
      exchange.request.resume();
      answer = exchange.upgrade ? backend.connect() : backend.send();
    } else {
      if (!exchange.headers.contains(HttpHeaders.CONTENT_LENGTH)) {
        backend.setChunked(true);
      }
      upload(exchange, backend, () -> exchange.backend == backend, backend::reset);
      answer = backend.response();
    }
    answer.onComplete(answered -> answered(exchange, answered));
  }

  /**
   * Streams the client's body to the instance. The response timeout starts once it is all sent: a
   * long upload is not a slow answer (the idle timeout still cuts an upload that stalls).
   */
  private void upload(
      Exchange exchange,
      WriteStream<Buffer> backend,
      BooleanSupplier stillCurrent,
      Runnable resetBackend) {
    exchange
        .request
        .pipe()
        .endOnFailure(false)
        .to(backend)
        .onComplete(
            uploaded -> {
              if (uploaded.succeeded()) {
                if (!exchange.answered && stillCurrent.getAsBoolean()) {
                  deadlines.add(exchange);
                }
              } else if (exchange.response.closed()
                  || uploaded.cause() instanceof StreamResetException) {
                // The client stopped mid-upload: its connection or stream is gone.
                exchange.cancel(Failure.clientGone(exchange.service(), exchange.instanceId()));
              } else {
                // The instance's side failed; the wait for its answer fails with it.
                resetBackend.run();
              }
            });
  }

  private void answered(Exchange exchange, AsyncResult<HttpClientResponse> answered) {
    exchange.answered = true;
    deadlines.remove(exchange);
    if (answered.failed()) {
      failed(
          exchange,
          exchange.cancelled() != null
              ? exchange.cancelled()
              : Failure.reset(
                  exchange.service(),
                  exchange.instanceId(),
                  answered.cause(),
                  exchange.bodyless && exchange.idempotent));
      return;
    }
    HttpClientResponse answer = answered.result();
    if (exchange.explain != null) {
      exchange.explain.attempt(exchange.instanceId(), "answered " + answer.statusCode());
    }
    resilience.answered(exchange.service(), exchange.instanceId(), answer.statusCode());
    exchange.answer.complete(answer);
  }

  /** Records an attempt's failure; tries another instance when allowed, else fails the stage. */
  private void failed(Exchange exchange, Failure failure) {
    if (exchange.explain != null) {
      exchange.explain.attempt(
          exchange.instanceId(), failure.kind().label() + " (" + failure.reason() + ")");
    }
    exchange.attemptFailed(failure);
    resilience.record(failure);
    Failure cause = exchange.cancelled() != null ? exchange.cancelled() : failure;
    if (cause == failure && resilience.retry(exchange.tries, failure)) {
      next(exchange);
    } else {
      exchange.answer.fail(cause);
    }
  }
}
