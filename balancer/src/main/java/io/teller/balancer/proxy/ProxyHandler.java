package io.teller.balancer.proxy;

import io.teller.balancer.counting.Ejections;
import io.teller.balancer.counting.InFlight;
import io.teller.balancer.counting.RetryBudget;
import io.teller.balancer.metrics.ProxyMetrics;
import io.teller.balancer.metrics.ProxyMetrics.FailureKind;
import io.teller.balancer.routing.RequestFacts;
import io.teller.balancer.routing.RouteTable;
import io.teller.balancer.routing.Routing;
import io.teller.balancer.routing.ServicePool;
import io.teller.balancer.strategy.Endpoint;
import io.teller.balancer.strategy.PickContext;
import io.teller.common.model.Service;
import io.teller.common.model.ServiceTimeouts;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The request path: matches a request to a service, picks an instance with the service's strategy,
 * and streams the request there and the response back, with back-pressure both ways. Upgrades
 * (WebSocket) become a tunnel of bytes once the instance agrees. It reads only the latest {@link
 * Routing} and this balancer's counters: no network call but the one to the chosen instance.
 *
 * <p>Written on the core HTTP client rather than vertx-http-proxy 5.0.7, whose error responses
 * bypass its interceptors (so an in-flight count could not be released exactly once), which has no
 * response-header timeout or retry to another origin, and which passes the backend's {@code
 * Connection} header on to HTTP/2 clients (upstream issue #152). Instances are picked by Teller's
 * own strategies rather than core's {@code io.vertx.core.net.endpoint} balancers, because picks
 * need routes, exclusions on retry, sticky cookies and counts shared across balancers.
 */
public final class ProxyHandler implements Handler<HttpServerRequest> {

  /** The balancer-wide defaults a service's own timeouts override, and the retry count. */
  public record Defaults(int connectMillis, int responseMillis, int idleMillis, int retries) {}

  private final BackendClients clients;
  private final Supplier<Routing> routing;
  private final InFlight inFlight;
  private final String scheme;
  private final Defaults defaults;
  private final Ejections ejections;
  private final RetryBudget budget;
  private final ProxyMetrics metrics;
  private final AccessLog accessLog;

  /**
   * Requests sent to an instance that has not answered yet, one set per response timeout in use,
   * each in deadline order (event-loop confined).
   */
  private final List<Waiting> waiting = new ArrayList<>(2);

  /**
   * @param clients this event loop's clients to the backends (keep-alive pools per instance)
   * @param routing the latest routing
   * @param inFlight this balancer's in-flight counts
   * @param scheme {@code https} or {@code http}: what clients used
   */
  public ProxyHandler(
      BackendClients clients,
      Supplier<Routing> routing,
      InFlight inFlight,
      String scheme,
      Defaults defaults,
      Ejections ejections,
      RetryBudget budget,
      ProxyMetrics metrics,
      AccessLog accessLog) {
    this.clients = clients;
    this.routing = routing;
    this.inFlight = inFlight;
    this.scheme = scheme;
    this.defaults = defaults;
    this.ejections = ejections;
    this.budget = budget;
    this.metrics = metrics;
    this.accessLog = accessLog;
  }

  @Override
  public void handle(HttpServerRequest request) {
    long started = System.nanoTime();
    Routing current = routing.get();
    Facts facts = new Facts(request);
    RouteTable.Match match = current.table().match(facts);
    if (match == null) {
      HttpServerResponse response = request.response();
      response.endHandler(v -> finished(request, started, ProxyMetrics.NONE, ProxyMetrics.NONE, 0));
      Responses.error(request, 404, "no route for " + describe(facts));
      return;
    }
    budget.request();
    ServicePool pool = current.pools().get(match.service());
    Exchange exchange = new Exchange(request, pool, match, facts.host(), started);
    // Hold the body (or an upgraded stream's first bytes) until an instance is connected.
    request.pause();
    HttpServerResponse response = request.response();
    response.endHandler(v -> exchange.finish());
    // A client that goes away cancels the backend request and frees its connection.
    response.closeHandler(
        v -> {
          exchange.finish();
          // Only an unanswered exchange is cancelled: resetting a completed request could close the
          // pooled connection that already serves another one. (Vert.x may call the end handler on
          // a close too, so "finished" cannot tell.)
          if (!response.ended() && exchange.backend != null) {
            exchange.backend.reset();
          }
        });
    attempt(exchange);
  }

  /** One try at an instance; on a failure before anything reached it, the next try elsewhere. */
  private void attempt(Exchange exchange) {
    HttpServerRequest request = exchange.request;
    Service service = exchange.pool.service();
    Endpoint endpoint = exchange.pool.picker().pick(exchange.pick);
    if (endpoint == null) {
      if (exchange.lastFailure != null) {
        Responses.error(request, exchange.lastStatus, exchange.lastFailure);
      } else {
        Responses.error(request, 503, "no available instance of service " + service.name());
      }
      return;
    }
    exchange.attempts++;
    exchange.headersIn = false;
    exchange.endpointId = endpoint.id();
    exchange.pick.tried(endpoint.id());
    exchange.lease = inFlight.acquire(endpoint.id());
    RequestOptions options =
        new RequestOptions()
            .setHost(endpoint.host())
            .setPort(endpoint.port())
            .setMethod(request.method())
            .setURI(exchange.uri)
            .setHeaders(exchange.headers)
            // Bounds the wait for a pooled connection too, not only the TCP connect.
            .setConnectTimeout(exchange.connectMillis);
    clients
        .get(exchange.connectMillis, exchange.idleMillis)
        .request(options)
        .onComplete(
            connected -> {
              if (connected.failed()) {
                metrics.upstreamFailure(service.name(), endpoint.id(), FailureKind.CONNECT);
                if (ejections.failed(endpoint.id())) {
                  metrics.ejected(service.name(), endpoint.id());
                }
                // Nothing reached the instance: always safe to try another.
                failed(
                    exchange,
                    502,
                    "cannot connect to instance "
                        + endpoint.id()
                        + " of service "
                        + service.name()
                        + ": "
                        + Responses.reason(connected.cause()),
                    true);
                return;
              }
              HttpClientRequest backend = connected.result();
              exchange.backend = backend;
              if (request.response().closed()) {
                backend.reset();
                return;
              }
              Future<HttpClientResponse> sent;
              if (exchange.upgrade || exchange.bodyless) {
                waitFor(exchange);
                request.resume();
                sent = exchange.upgrade ? backend.connect() : backend.send();
              } else {
                // The response timeout starts once the body is sent: a long upload is not a slow
                // answer
                // (the idle timeout still cuts an upload that stalls).
                sent = backend.response();
                if (!exchange.headers.contains(HttpHeaders.CONTENT_LENGTH)) {
                  backend.setChunked(true);
                }
                request
                    .pipe()
                    .endOnFailure(false)
                    .to(backend)
                    .onComplete(
                        piped -> {
                          if (piped.failed()) {
                            backend.reset();
                          } else if (!exchange.headersIn) {
                            waitFor(exchange);
                          }
                        });
              }
              sent.onComplete(
                  answered -> {
                    exchange.headersIn = true;
                    if (exchange.waiting != null) {
                      exchange.waiting.remove(exchange);
                      exchange.waiting = null;
                    }
                    if (answered.failed()) {
                      if (exchange.timedOut) {
                        metrics.upstreamFailure(service.name(), endpoint.id(), FailureKind.TIMEOUT);
                        serverError(service, endpoint);
                        failed(
                            exchange,
                            504,
                            "instance "
                                + endpoint.id()
                                + " of service "
                                + service.name()
                                + " did not answer within "
                                + exchange.responseMillis
                                + " ms",
                            false);
                      } else {
                        metrics.upstreamFailure(service.name(), endpoint.id(), FailureKind.RESET);
                        serverError(service, endpoint);
                        // It may have seen the request: replay only what is idempotent and has no
                        // body.
                        failed(
                            exchange,
                            502,
                            "instance "
                                + endpoint.id()
                                + " of service "
                                + service.name()
                                + " failed: "
                                + Responses.reason(answered.cause()),
                            exchange.bodyless && exchange.idempotent);
                      }
                      return;
                    }
                    HttpClientResponse answer = answered.result();
                    if (answer.statusCode() >= 500) {
                      serverError(service, endpoint);
                    } else {
                      ejections.succeeded(endpoint.id());
                    }
                    if (service.stickyCookie() != null
                        && !endpoint.id().equals(exchange.pick.stickyEndpointId())) {
                      request
                          .response()
                          .addCookie(
                              Cookie.cookie(service.stickyCookie(), endpoint.id())
                                  .setPath("/")
                                  .setHttpOnly(true)
                                  .setSecure("https".equals(scheme)));
                    }
                    if (exchange.upgrade && answer.statusCode() == 101) {
                      tunnel(exchange, answer);
                    } else {
                      relay(request, answer);
                    }
                  });
            });
  }

  private void serverError(Service service, Endpoint endpoint) {
    if (ejections.serverError(endpoint.id())) {
      metrics.ejected(service.name(), endpoint.id());
    }
  }

  private void failed(Exchange exchange, int status, String reason, boolean retryable) {
    exchange.lease.release();
    exchange.backend = null;
    exchange.lastStatus = status;
    exchange.lastFailure = reason;
    String service = exchange.pool.service().name();
    if (retryable
        && exchange.retriesLeft > 0
        && !exchange.request.response().closed()
        && exchange.pool.endpoints().size() > exchange.attempts) {
      if (budget.tryRetry()) {
        exchange.retriesLeft--;
        metrics.retried(service);
        attempt(exchange);
        return;
      }
      metrics.retryOverBudget(service);
    }
    Responses.error(exchange.request, status, reason);
  }

  /** Registers {@code exchange} for its response timeout. */
  private void waitFor(Exchange exchange) {
    exchange.deadlineNanos = System.nanoTime() + exchange.responseMillis * 1_000_000L;
    for (Waiting set : waiting) {
      if (set.timeoutMillis == exchange.responseMillis) {
        set.add(exchange);
        exchange.waiting = set;
        return;
      }
    }
    Waiting set = new Waiting(exchange.responseMillis);
    waiting.add(set);
    set.add(exchange);
    exchange.waiting = set;
  }

  /**
   * Fails the requests whose instance has not answered (status and headers) in time. Called
   * periodically on this handler's event loop: one timer per event loop rather than one per
   * request, which cost a quarter of the throughput.
   */
  public void expire() {
    long now = System.nanoTime();
    for (Waiting set : waiting) {
      Iterator<Exchange> oldestFirst = set.iterator();
      while (oldestFirst.hasNext()) {
        Exchange exchange = oldestFirst.next();
        if (exchange.deadlineNanos > now) {
          // One timeout per set, so the set is in deadline order: the rest are later.
          break;
        }
        oldestFirst.remove();
        exchange.timedOut = true;
        if (exchange.backend != null) {
          exchange.backend.reset();
        }
      }
    }
  }

  /** Exchanges that share one response timeout; insertion order is deadline order. */
  private static final class Waiting extends LinkedHashSet<Exchange> {
    final int timeoutMillis;

    Waiting(int timeoutMillis) {
      this.timeoutMillis = timeoutMillis;
    }
  }

  /** One client request's way through the balancer, over its attempts. */
  private final class Exchange {
    final HttpServerRequest request;
    final ServicePool pool;
    final Pick pick;
    final String uri;
    final MultiMap headers;
    final boolean bodyless;
    final boolean idempotent;
    final boolean upgrade;
    final long startedNanos;
    final int connectMillis;
    final int responseMillis;
    final int idleMillis;
    int retriesLeft = defaults.retries();
    int attempts;
    String endpointId = ProxyMetrics.NONE;
    long deadlineNanos;
    Waiting waiting;
    boolean timedOut;

    /** Whether the current attempt's response (or its failure) came in. */
    boolean headersIn;

    boolean finished;
    InFlight.Lease lease;
    HttpClientRequest backend;
    String lastFailure;
    int lastStatus;

    Exchange(
        HttpServerRequest request,
        ServicePool pool,
        RouteTable.Match match,
        String host,
        long startedNanos) {
      this.request = request;
      this.pool = pool;
      this.startedNanos = startedNanos;
      Service service = pool.service();
      ServiceTimeouts timeouts = service.timeouts();
      this.connectMillis =
          timeouts.connectMs() != null ? timeouts.connectMs() : defaults.connectMillis();
      this.responseMillis =
          timeouts.responseMs() != null ? timeouts.responseMs() : defaults.responseMillis();
      this.idleMillis = timeouts.idleMs() != null ? timeouts.idleMs() : defaults.idleMillis();
      this.pick = new Pick(request, service.stickyCookie(), pool, ejections);
      this.uri =
          service.stripPrefix()
              ? RouteTable.strip(match.pathPrefix(), request.uri())
              : request.uri();
      this.upgrade = Upgrades.isUpgrade(request);
      this.headers = backendHeaders(request, host, upgrade);
      HttpMethod method = request.method();
      this.idempotent =
          method == HttpMethod.GET
              || method == HttpMethod.HEAD
              || method == HttpMethod.OPTIONS
              || method == HttpMethod.PUT
              || method == HttpMethod.DELETE
              || method == HttpMethod.TRACE;
      String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
      boolean declaresBody =
          (length != null && !length.equals("0"))
              || request.headers().contains(HttpHeaders.TRANSFER_ENCODING);
      boolean usuallyBodyless =
          method == HttpMethod.GET
              || method == HttpMethod.HEAD
              || method == HttpMethod.OPTIONS
              || method == HttpMethod.DELETE
              || method == HttpMethod.TRACE;
      this.bodyless = "0".equals(length) || (usuallyBodyless && !declaresBody);
    }

    /** The answer is complete or the client left: count it once, and free the instance. */
    void finish() {
      if (lease != null) {
        lease.release();
      }
      if (!finished) {
        finished = true;
        finished(request, startedNanos, pool.service().name(), endpointId, attempts);
      }
    }
  }

  private void finished(
      HttpServerRequest request, long startedNanos, String service, String instance, int attempts) {
    long nanos = System.nanoTime() - startedNanos;
    HttpServerResponse response = request.response();
    int status = response.ended() ? response.getStatusCode() : 499;
    metrics.answered(service, instance, status, nanos);
    if (accessLog.enabled()) {
      SocketAddress remote = request.remoteAddress();
      accessLog.log(
          new AccessLog.Entry(
              System.currentTimeMillis() - nanos / 1_000_000,
              remote == null ? "" : remote.hostAddress(),
              request.method().name(),
              request.authority() == null ? "" : request.authority().toString(),
              request.uri(),
              request.version() == null ? "" : request.version().alpnName(),
              status,
              service,
              instance,
              request.bytesRead(),
              response.bytesWritten(),
              nanos / 1_000,
              attempts));
    }
  }

  private void relay(HttpServerRequest request, HttpClientResponse backend) {
    HttpServerResponse response = request.response();
    response.setStatusCode(backend.statusCode());
    Headers.copyEndToEnd(backend.headers(), response.headers());
    if (request.version() != HttpVersion.HTTP_2
        && !response.headers().contains(HttpHeaders.CONTENT_LENGTH)
        && request.method() != HttpMethod.HEAD
        && backend.statusCode() != 204
        && backend.statusCode() != 304) {
      response.setChunked(true);
    }
    // A body cut short must reach the client cut short: never end it as if it were complete.
    backend
        .pipe()
        .endOnFailure(false)
        .to(response)
        .onFailure(
            e -> {
              if (!response.ended() && !response.closed()) {
                response.reset();
              }
            });
  }

  /** The instance switched protocols: from now on, bytes both ways until either side closes. */
  private void tunnel(Exchange exchange, HttpClientResponse answer) {
    HttpServerResponse response = exchange.request.response();
    Upgrades.copyHandshake(answer.headers(), response.headers());
    NetSocket toBackend = answer.netSocket();
    exchange
        .request
        .toNetSocket()
        .onComplete(
            upgraded -> {
              if (upgraded.failed()) {
                toBackend.close();
                return;
              }
              NetSocket toClient = upgraded.result();
              // The connection is no longer HTTP: the answer is counted when the tunnel closes.
              toClient.closeHandler(
                  v -> {
                    toBackend.close();
                    exchange.finish();
                  });
              toBackend.closeHandler(v -> toClient.close());
              toClient.pipeTo(toBackend);
              toBackend.pipeTo(toClient);
            });
  }

  private MultiMap backendHeaders(HttpServerRequest request, String host, boolean upgrade) {
    MultiMap headers = HttpHeaders.headers();
    Headers.copyEndToEnd(request.headers(), headers);
    if (upgrade) {
      Upgrades.keepUpgrade(request.headers(), headers);
    }
    String authority = request.authority() == null ? null : request.authority().toString();
    if (authority != null) {
      // HTTP/2 carries the host as :authority; the backend speaks HTTP/1.1 and needs Host.
      headers.set(HttpHeaders.HOST, authority);
    }
    SocketAddress remote = request.remoteAddress();
    String clientIp =
        remote == null || remote.hostAddress() == null ? "unknown" : remote.hostAddress();
    int port = request.localAddress() == null ? -1 : request.localAddress().port();
    Headers.addForwarding(headers, clientIp, scheme, authority, port);
    return headers;
  }

  private static String describe(Facts facts) {
    return (facts.host().isEmpty() ? "" : facts.host()) + facts.path();
  }

  /** Routing's view of a request. */
  private static final class Facts implements RequestFacts {
    private final HttpServerRequest request;
    private final String host;

    Facts(HttpServerRequest request) {
      this.request = request;
      this.host =
          request.authority() == null ? "" : request.authority().host().toLowerCase(Locale.ROOT);
    }

    @Override
    public String host() {
      return host;
    }

    @Override
    public String path() {
      return request.path();
    }

    @Override
    public String method() {
      return request.method().name();
    }

    @Override
    public String header(String name) {
      return request.getHeader(name);
    }
  }

  /** The picker's view of a request. */
  private static final class Pick implements PickContext {
    private final HttpServerRequest request;
    private final String sticky;
    private final ServicePool pool;
    private final Ejections ejections;

    /** Instances this request went to: one on the common path, so no set until a retry. */
    private Set<String> tried = Set.of();

    Pick(HttpServerRequest request, String stickyCookie, ServicePool pool, Ejections ejections) {
      this.request = request;
      this.pool = pool;
      this.ejections = ejections;
      Cookie cookie = stickyCookie == null ? null : request.getCookie(stickyCookie);
      this.sticky = cookie == null ? null : cookie.getValue();
    }

    @Override
    public String header(String name) {
      return request.getHeader(name);
    }

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

    void tried(String endpointId) {
      if (tried.isEmpty()) {
        tried = Set.of(endpointId);
      } else {
        Set<String> copy = new HashSet<>(tried);
        copy.add(endpointId);
        tried = copy;
      }
    }

    @Override
    public Set<String> excluded() {
      return ejections.excluding(pool.endpoints().keySet(), tried);
    }
  }
}
