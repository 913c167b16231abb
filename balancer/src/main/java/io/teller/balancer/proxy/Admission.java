package io.teller.balancer.proxy;

import io.teller.balancer.resilience.Resilience;
import io.teller.balancer.routing.RouteTable;
import io.teller.common.model.Service;
import io.teller.common.model.ServiceTimeouts;
import io.teller.common.net.CidrSet;
import io.vertx.core.MultiMap;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.impl.headers.HeadersMultiMap;
import io.vertx.core.net.SocketAddress;

/**
 * The second stage: lets a routed request in. It counts toward the retry budget, gets its service's
 * limits (connect, response and idle timeouts, the balancer's defaults where the service sets
 * none), the request the instance will get (URI, headers re-framed), what decides a retry (a body,
 * idempotence, an upgrade), and its body is held until an instance is connected.
 */
final class Admission {

  private final ProxyHandler.Defaults defaults;
  private final Resilience resilience;
  private final CidrSet trusted;
  private final Headers.Forwarding forwarding;
  private final Client[] clients = new Client[CLIENT_SLOTS];

  /**
   * How many connections' client addresses are kept: a direct-mapped cache, one slot per
   * connection's address object (Vert.x keeps one per connection), so that the requests of
   * interleaved keep-alive connections on one event loop find theirs. A slot taken by another
   * connection is worked out again, never wrong.
   */
  private static final int CLIENT_SLOTS = 256;

  /** A connection's client address as text ("unknown" without one) and whether it is trusted. */
  private record Client(SocketAddress remote, String ip, boolean trusted) {}

  Admission(ProxyHandler.Defaults defaults, Resilience resilience, String scheme, CidrSet trusted) {
    this.defaults = defaults;
    this.resilience = resilience;
    this.trusted = trusted;
    this.forwarding = new Headers.Forwarding(scheme);
  }

  void admit(Exchange exchange) {
    HttpServerRequest request = exchange.request;
    // Hold the body (or an upgraded stream's first bytes) until an instance is connected.
    request.pause();
    resilience.admitted();
    exchange.tries = resilience.tries(exchange.pool);
    Service service = exchange.pool.service();
    ServiceTimeouts timeouts = service.timeouts();
    exchange.connectMillis =
        timeouts.connectMs() != null ? timeouts.connectMs() : defaults.connectMillis();
    exchange.responseMillis =
        timeouts.responseMs() != null ? timeouts.responseMs() : defaults.responseMillis();
    exchange.idleMillis = timeouts.idleMs() != null ? timeouts.idleMs() : defaults.idleMillis();
    if (service.stickyCookie() != null) {
      Cookie cookie = request.getCookie(service.stickyCookie());
      exchange.sticky = cookie == null ? null : cookie.getValue();
    }
    String uri = exchange.target.uri();
    exchange.uri = service.stripPrefix() ? RouteTable.strip(exchange.prefix, uri) : uri;
    exchange.upgrade = Upgrades.isUpgrade(request, service.upgrades());
    exchange.headers = backendHeaders(request, exchange.upgrade);
    HttpMethod method = request.method();
    exchange.idempotent =
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
    exchange.bodyless = "0".equals(length) || (usuallyBodyless && !declaresBody);
  }

  /** The request's headers as the instance gets them: end to end, with forwarding added. */
  private MultiMap backendHeaders(HttpServerRequest request, boolean upgrade) {
    // An HTTP/1 request's fields were validated as Vert.x decoded them, and what is added here is
    // the balancer's own: checking every name and value again as it is copied is wasted work. An
    // HTTP/2 request's fields come from HPACK instead, and are checked here as before.
    MultiMap headers =
        request.version() == HttpVersion.HTTP_2
            ? HttpHeaders.headers()
            : HeadersMultiMap.caseInsensitive();
    Headers.copyEndToEnd(request.headers(), headers);
    // Meant for the balancer alone, whoever sent them.
    headers.remove(Explain.HEADER);
    headers.remove(Explain.TOKEN_HEADER);
    if (upgrade) {
      Upgrades.keepUpgrade(request.headers(), headers);
    }
    String authority = request.authority() == null ? null : request.authority().toString();
    if (authority != null) {
      // HTTP/2 carries the host as :authority; the backend speaks HTTP/1.1 and needs Host.
      headers.set(HttpHeaders.HOST, authority);
    }
    Client client = client(request.remoteAddress());
    int port = request.localAddress() == null ? -1 : request.localAddress().port();
    forwarding.add(headers, client.ip(), authority, port, client.trusted());
    return headers;
  }

  /** The client's address text and trust, worked out once per connection, not per request. */
  private Client client(SocketAddress remote) {
    int slot = System.identityHashCode(remote) & (CLIENT_SLOTS - 1);
    Client known = clients[slot];
    if (known != null && known.remote() == remote) {
      return known;
    }
    String ip = remote == null || remote.hostAddress() == null ? "unknown" : remote.hostAddress();
    Client worked = new Client(remote, ip, trusted.contains(ip));
    clients[slot] = worked;
    return worked;
  }
}
