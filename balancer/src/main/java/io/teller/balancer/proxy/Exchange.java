package io.teller.balancer.proxy;

import io.teller.balancer.counting.InFlight;
import io.teller.balancer.edge.RequestTarget;
import io.teller.balancer.metrics.ProxyMetrics;
import io.teller.balancer.resilience.Failure;
import io.teller.balancer.resilience.Resilience;
import io.teller.balancer.routing.RequestFacts;
import io.teller.balancer.routing.ServicePool;
import io.teller.balancer.strategy.Endpoint;
import io.teller.balancer.strategy.PickContext;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.SocketAddress;
import java.util.Locale;
import java.util.Set;

/**
 * One client request's way through the balancer, from its arrival to the end of its answer: what
 * the stages of {@link ProxyHandler} hand each other. It is also the route table's and the picker's
 * view of the request, so that a request costs one object here. Event-loop confined: every callback
 * of a request runs on its connection's event loop.
 *
 * <p>A request ends once ({@link #handle}): when its answer is complete, or when its client's
 * connection or stream closes first (the client left: {@link Failure#clientGone}). What stops it
 * early — the client leaving, the response timeout — {@linkplain #cancel cancels} it: the cause is
 * kept and the instance's request reset, so that the stage waiting on the instance fails with that
 * cause rather than with whatever the reset looks like (a reset the balancer made on the client's
 * behalf is never the instance's fault).
 */
final class Exchange implements RequestFacts, PickContext, Handler<Void> {

  final HttpServerRequest request;
  final HttpServerResponse response;
  final long startedNanos;
  private final Finish finish;
  private String host;

  // Set by the route stage.
  ServicePool pool;
  String prefix;

  /** Why this request went where it went, for a client allowed to ask; else null. */
  Explain explain;

  /** The normalised target (dot-segments removed): what routing sees and the instance gets. */
  RequestTarget target;

  // Set by admission.
  Resilience.Tries tries;
  String uri;
  MultiMap headers;
  boolean bodyless;
  boolean idempotent;
  boolean upgrade;
  int connectMillis;
  int responseMillis;
  int idleMillis;
  String sticky;

  // The current attempt.
  Endpoint endpoint;
  InFlight.Lease lease;
  HttpClientRequest backend;
  UpstreamCall call;
  boolean answered;
  Promise<HttpClientResponse> answer;
  Failure lastFailure;

  // The response deadline (see ResponseDeadlines).
  long deadlineNanos;
  ResponseDeadlines.Waiting waiting;

  // Its neighbours in that list, in deadline order.
  Exchange earlier;
  Exchange later;

  // How it ended.
  private Failure cancelled;
  private Failure failure;
  boolean tunnelled;
  private boolean finished;

  Exchange(HttpServerRequest request, Finish finish) {
    this.request = request;
    this.response = request.response();
    this.startedNanos = System.nanoTime();
    this.finish = finish;
    // Vert.x calls the end handler on a close too: one handler sees both, and tells them apart.
    response.endHandler(this).closeHandler(this);
  }

  /** The response ended or its connection (or stream) closed: the exchange is over. */
  @Override
  public void handle(Void ignored) {
    if (finished) {
      return;
    }
    if (!response.ended() && !tunnelled && failure == null) {
      cancel(Failure.clientGone(service(), endpoint == null ? null : endpoint.id()));
    }
    finished = true;
    finish.done(this);
  }

  /**
   * Stops the exchange for {@code cause} (the first cause wins): the instance's request is reset,
   * which frees its connection and makes the stage waiting on it fail with {@code cause}.
   */
  void cancel(Failure cause) {
    if (cancelled != null || failure != null) {
      return;
    }
    cancelled = cause;
    if (backend != null) {
      backend.reset();
    }
    if (call != null) {
      call.reset();
    }
  }

  /** Why it was cancelled, or null. */
  Failure cancelled() {
    return cancelled;
  }

  /** The failure it ended with; the first one set wins, and the return says whether this was it. */
  boolean failed(Failure failure) {
    if (this.failure != null) {
      return false;
    }
    this.failure = failure;
    return true;
  }

  /** A failure of a stage, read in the light of why the exchange was cancelled, if it was. */
  Failure explain(Throwable cause) {
    if (cancelled != null) {
      return cancelled;
    }
    if (cause instanceof Failure typed) {
      return typed;
    }
    if (response.closed() && !response.ended()) {
      return Failure.clientGone(service(), instanceId());
    }
    return Failure.internal(service(), cause);
  }

  /** The status the exchange ended with, as metered and logged (499: the client left). */
  int status() {
    if (failure != null) {
      return failure.status();
    }
    if (cancelled != null) {
      return cancelled.status();
    }
    if (tunnelled) {
      return 101;
    }
    return response.ended() ? response.getStatusCode() : Failure.Kind.CLIENT_GONE.status();
  }

  /** The failure it ended with (the cancellation's when it was cancelled), or null. */
  Failure outcome() {
    return failure != null ? failure : cancelled;
  }

  /** Starts an attempt on {@code endpoint}, holding {@code lease} on it. */
  void attempt(Endpoint endpoint, InFlight.Lease lease) {
    this.endpoint = endpoint;
    this.lease = lease;
    this.backend = null;
    this.call = null;
    this.answered = false;
    tries.add(endpoint.id());
  }

  /** The attempt failed: its instance is free again. */
  void attemptFailed(Failure failure) {
    lease.release();
    backend = null;
    call = null;
    lastFailure = failure;
  }

  /** Gives the instance's in-flight count back, if taken (any number of calls count once). */
  void release() {
    if (lease != null) {
      lease.release();
    }
  }

  /** The service's name, or "none" before routing. */
  String service() {
    return pool == null ? ProxyMetrics.NONE : pool.service().name();
  }

  /** The current instance's id, or "none". */
  String instanceId() {
    return endpoint == null ? ProxyMetrics.NONE : endpoint.id();
  }

  /** Sets the sticky cookie on the answer when the instance is not already the cookie's. */
  void stick(String scheme) {
    String cookie = pool.service().stickyCookie();
    if (cookie != null && !endpoint.id().equals(sticky)) {
      response.addCookie(
          Cookie.cookie(cookie, endpoint.id())
              .setPath("/")
              .setHttpOnly(true)
              .setSecure("https".equals(scheme)));
    }
  }

  /** Whether the instance agreed to switch protocols (WebSocket): the answer becomes a tunnel. */
  boolean switchesProtocols(HttpClientResponse answer) {
    return upgrade && answer.statusCode() == 101;
  }

  // RequestFacts: routing's view.

  @Override
  public String host() {
    if (host == null) {
      host = request.authority() == null ? "" : request.authority().host().toLowerCase(Locale.ROOT);
    }
    return host;
  }

  @Override
  public String path() {
    return target != null ? target.path() : request.path();
  }

  @Override
  public String method() {
    return request.method().name();
  }

  // RequestFacts and PickContext.

  @Override
  public String header(String name) {
    return request.getHeader(name);
  }

  // PickContext: the picker's view.

  @Override
  public String cookie(String name) {
    Cookie cookie = request.getCookie(name);
    return cookie == null ? null : cookie.getValue();
  }

  @Override
  public String clientAddress() {
    SocketAddress remote = request.remoteAddress();
    return remote == null ? "" : remote.hostAddress();
  }

  @Override
  public String stickyEndpointId() {
    return sticky;
  }

  @Override
  public Set<String> excluded() {
    return tries.excluded();
  }
}
