package io.teller.balancer.proxy;

import io.teller.balancer.counting.Ejections;
import io.teller.balancer.counting.InFlight;

import io.teller.balancer.routing.RequestFacts;
import io.teller.balancer.routing.RouteTable;
import io.teller.balancer.routing.Routing;
import io.teller.balancer.routing.ServicePool;
import io.teller.balancer.strategy.Endpoint;
import io.teller.balancer.strategy.PickContext;
import io.teller.common.model.Service;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The request path: matches a request to a service, picks an instance with the service's
 * strategy, and streams the request there and the response back, with back-pressure both ways.
 * It reads only the latest {@link Routing} and this balancer's counters: no network call but the
 * one to the chosen instance.
 *
 * <p>Written on the core {@link HttpClient} rather than vertx-http-proxy 5.0.7, whose error
 * responses bypass its interceptors (so an in-flight count could not be released exactly once),
 * which has no response-header timeout or retry to another origin, and which passes the
 * backend's {@code Connection} header on to HTTP/2 clients (upstream issue #152). Instances are
 * picked by Teller's own strategies rather than core's {@code io.vertx.core.net.endpoint}
 * balancers, because picks need routes, exclusions on retry, sticky cookies and counts shared
 * across balancers.
 */
public final class ProxyHandler implements Handler<HttpServerRequest> {

  private final HttpClient client;
  private final Supplier<Routing> routing;
  private final InFlight inFlight;
  private final String scheme;
  private final Timeouts timeouts;
  private final Ejections ejections;
  /** Requests sent to an instance that has not answered yet, oldest first (event-loop confined). */
  private final java.util.LinkedHashSet<Exchange> awaitingAnswer = new java.util.LinkedHashSet<>();

  /** How long to wait for an instance, and how many other instances to try. */
  public record Timeouts(long responseMillis, int retries) {}

  /**
   * @param client this event loop's client to the backends (keep-alive pools per instance)
   * @param routing the latest routing
   * @param inFlight this balancer's in-flight counts
   * @param scheme {@code https} or {@code http}: what clients used
   * @param timeouts response timeout and retries
   */
  public ProxyHandler(HttpClient client, Supplier<Routing> routing, InFlight inFlight, String scheme,
      Timeouts timeouts, Ejections ejections) {
    this.client = client;
    this.routing = routing;
    this.inFlight = inFlight;
    this.scheme = scheme;
    this.timeouts = timeouts;
    this.ejections = ejections;
  }

  @Override
  public void handle(HttpServerRequest request) {
    Routing current = routing.get();
    Facts facts = new Facts(request);
    RouteTable.Match match = current.table().match(facts);
    if (match == null) {
      Responses.error(request, 404, "no route for " + describe(facts));
      return;
    }
    ServicePool pool = current.pools().get(match.service());
    Exchange exchange = new Exchange(request, pool, match, facts.host());
    request.pause();
    HttpServerResponse response = request.response();
    response.endHandler(v -> exchange.releaseLease());
    // A client that goes away cancels the backend request and frees its connection.
    response.closeHandler(v -> {
      exchange.releaseLease();
      if (exchange.backend != null) {
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
    exchange.pick.tried(endpoint.id());
    exchange.pick.ejected = null;
    exchange.lease = inFlight.acquire(endpoint.id());
    RequestOptions options = new RequestOptions()
        .setHost(endpoint.host())
        .setPort(endpoint.port())
        .setMethod(request.method())
        .setURI(exchange.uri)
        .setHeaders(exchange.headers);
    client.request(options).onComplete(connected -> {
      if (connected.failed()) {
        ejections.failed(endpoint.id());
        // Nothing reached the instance: always safe to try another.
        failed(exchange, endpoint, 502, "cannot connect to instance " + endpoint.id() + " of service "
            + service.name() + ": " + Responses.reason(connected.cause()), true);
        return;
      }
      HttpClientRequest backend = connected.result();
      exchange.backend = backend;
      if (request.response().closed()) {
        backend.reset();
        return;
      }
      exchange.deadlineNanos = System.nanoTime() + timeouts.responseMillis() * 1_000_000;
      awaitingAnswer.add(exchange);
      Future<HttpClientResponse> sent;
      if (exchange.bodyless) {
        request.resume();
        sent = backend.send();
      } else {
        sent = backend.send(request);
      }
      sent.onComplete(answered -> {
        awaitingAnswer.remove(exchange);
        if (answered.failed()) {
          if (exchange.timedOut) {
            failed(exchange, endpoint, 504, "instance " + endpoint.id() + " of service " + service.name()
                + " did not answer within " + timeouts.responseMillis() + " ms", false);
          } else {
            // It may have seen the request: replay only what is idempotent and has no body.
            failed(exchange, endpoint, 502, "instance " + endpoint.id() + " of service " + service.name()
                + " failed: " + Responses.reason(answered.cause()), exchange.bodyless && exchange.idempotent);
          }
          return;
        }
        if (service.stickyCookie() != null && !endpoint.id().equals(exchange.pick.stickyEndpointId())) {
          request.response().addCookie(Cookie.cookie(service.stickyCookie(), endpoint.id())
              .setPath("/").setHttpOnly(true).setSecure("https".equals(scheme)));
        }
        ejections.succeeded(endpoint.id());
        relay(request, answered.result());
      });
    });
  }

  private void failed(Exchange exchange, Endpoint endpoint, int status, String reason, boolean retryable) {
    exchange.releaseLease();
    exchange.backend = null;
    exchange.lastStatus = status;
    exchange.lastFailure = reason;
    if (retryable && exchange.retriesLeft > 0 && !exchange.request.response().closed()) {
      exchange.retriesLeft--;
      attempt(exchange);
    } else {
      Responses.error(exchange.request, status, reason);
    }
  }

  /**
   * Fails the requests whose instance has not answered (status and headers) in time. Called
   * periodically on this handler's event loop: one timer per event loop rather than one per
   * request, which cost a quarter of the throughput.
   */
  public void expire() {
    long now = System.nanoTime();
    var waiting = awaitingAnswer.iterator();
    while (waiting.hasNext()) {
      Exchange exchange = waiting.next();
      if (exchange.deadlineNanos > now) {
        // All share one timeout, so the set is in deadline order: the rest are later.
        return;
      }
      waiting.remove();
      exchange.timedOut = true;
      if (exchange.backend != null) {
        exchange.backend.reset();
      }
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
    int retriesLeft = timeouts.retries();
    long deadlineNanos;
    boolean timedOut;
    InFlight.Lease lease;
    HttpClientRequest backend;
    String lastFailure;
    int lastStatus;

    Exchange(HttpServerRequest request, ServicePool pool, RouteTable.Match match, String host) {
      this.request = request;
      this.pool = pool;
      Service service = pool.service();
      this.pick = new Pick(request, service.stickyCookie(), pool, ejections);
      this.uri = service.stripPrefix() ? RouteTable.strip(match.pathPrefix(), request.uri()) : request.uri();
      this.headers = backendHeaders(request, host);
      HttpMethod method = request.method();
      this.idempotent = method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.OPTIONS
          || method == HttpMethod.PUT || method == HttpMethod.DELETE || method == HttpMethod.TRACE;
      String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
      boolean declaresBody = (length != null && !length.equals("0"))
          || request.headers().contains(HttpHeaders.TRANSFER_ENCODING);
      boolean usuallyBodyless = method == HttpMethod.GET || method == HttpMethod.HEAD
          || method == HttpMethod.OPTIONS || method == HttpMethod.DELETE || method == HttpMethod.TRACE;
      this.bodyless = "0".equals(length) || (usuallyBodyless && !declaresBody);
    }

    void releaseLease() {
      if (lease != null) {
        lease.release();
      }
    }
  }

  private void relay(HttpServerRequest request, HttpClientResponse backend) {
    HttpServerResponse response = request.response();
    response.setStatusCode(backend.statusCode());
    Headers.copyEndToEnd(backend.headers(), response.headers());
    if (request.version() != HttpVersion.HTTP_2 && !response.headers().contains(HttpHeaders.CONTENT_LENGTH)
        && request.method() != HttpMethod.HEAD && backend.statusCode() != 204 && backend.statusCode() != 304) {
      response.setChunked(true);
    }
    backend.pipeTo(response).onFailure(e -> {
      if (!response.ended() && !response.closed()) {
        response.reset();
      }
    });
  }

  private MultiMap backendHeaders(HttpServerRequest request, String host) {
    MultiMap headers = HttpHeaders.headers();
    Headers.copyEndToEnd(request.headers(), headers);
    String authority = request.authority() == null ? null : request.authority().toString();
    if (authority != null) {
      // HTTP/2 carries the host as :authority; the backend speaks HTTP/1.1 and needs Host.
      headers.set(HttpHeaders.HOST, authority);
    }
    SocketAddress remote = request.remoteAddress();
    String clientIp = remote == null || remote.hostAddress() == null ? "unknown" : remote.hostAddress();
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
      this.host = request.authority() == null ? "" : request.authority().host().toLowerCase(Locale.ROOT);
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
    private java.util.Set<String> tried = java.util.Set.of();
    java.util.Set<String> ejected;

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
      tried = tried.isEmpty() ? java.util.Set.of(endpointId) : union(tried, endpointId);
    }

    private static java.util.Set<String> union(java.util.Set<String> set, String id) {
      java.util.Set<String> copy = new java.util.HashSet<>(set);
      copy.add(id);
      return copy;
    }

    @Override
    public java.util.Set<String> excluded() {
      if (!ejections.any()) {
        return tried;
      }
      if (ejected == null) {
        java.util.Set<String> out = ejections.ejectedAmong(pool.endpoints().keySet());
        out.addAll(tried);
        // Panic threshold: ejection never empties a service; with all ejected, use them all.
        ejected = out.containsAll(pool.endpoints().keySet()) ? tried : out;
      }
      return ejected;
    }
  }
}
