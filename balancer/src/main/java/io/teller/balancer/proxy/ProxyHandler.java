package io.teller.balancer.proxy;

import io.teller.balancer.counting.InFlight;

import io.teller.balancer.routing.RequestFacts;
import io.teller.balancer.routing.RouteTable;
import io.teller.balancer.routing.Routing;
import io.teller.balancer.routing.ServicePool;
import io.teller.balancer.strategy.Endpoint;
import io.teller.balancer.strategy.PickContext;
import io.teller.common.model.Service;
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

  /**
   * @param client this event loop's client to the backends (keep-alive pools per instance)
   * @param routing the latest routing
   * @param inFlight this balancer's in-flight counts
   * @param scheme {@code https} or {@code http}: what clients used
   */
  public ProxyHandler(HttpClient client, Supplier<Routing> routing, InFlight inFlight, String scheme) {
    this.client = client;
    this.routing = routing;
    this.inFlight = inFlight;
    this.scheme = scheme;
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
    Service service = pool.service();
    Pick pick = new Pick(request, service.stickyCookie());
    Endpoint endpoint = pool.picker().pick(pick);
    if (endpoint == null) {
      Responses.error(request, 503, "no available instance of service " + service.name());
      return;
    }
    request.pause();
    InFlight.Lease lease = inFlight.acquire(endpoint.id());
    HttpServerResponse response = request.response();
    response.endHandler(v -> lease.release());
    response.closeHandler(v -> lease.release());

    String uri = service.stripPrefix() ? RouteTable.strip(match.pathPrefix(), request.uri()) : request.uri();
    RequestOptions options = new RequestOptions()
        .setHost(endpoint.host())
        .setPort(endpoint.port())
        .setMethod(request.method())
        .setURI(uri)
        .setHeaders(backendHeaders(request, facts.host()));
    if (service.stickyCookie() != null && !endpoint.id().equals(pick.stickyEndpointId())) {
      response.addCookie(Cookie.cookie(service.stickyCookie(), endpoint.id())
          .setPath("/").setHttpOnly(true).setSecure("https".equals(scheme)));
    }
    client.request(options).onComplete(connected -> {
      if (connected.failed()) {
        lease.release();
        Responses.error(request, 502, "cannot connect to instance " + endpoint.id() + " of service "
            + service.name() + ": " + Responses.reason(connected.cause()));
        return;
      }
      HttpClientRequest backend = connected.result();
      // A client that goes away cancels the backend request and frees its connection.
      response.closeHandler(v -> {
        lease.release();
        backend.reset();
      });
      backend.send(request).onComplete(answered -> {
        if (answered.failed()) {
          lease.release();
          Responses.error(request, 502, "instance " + endpoint.id() + " of service " + service.name()
              + " failed: " + Responses.reason(answered.cause()));
          return;
        }
        relay(request, answered.result());
      });
    });
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

    Pick(HttpServerRequest request, String stickyCookie) {
      this.request = request;
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
  }
}
