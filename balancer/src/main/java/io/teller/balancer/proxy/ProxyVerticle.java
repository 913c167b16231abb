package io.teller.balancer.proxy;

import io.teller.balancer.counting.InFlight;
import io.teller.balancer.edge.EdgeGuard;
import io.teller.balancer.edge.EdgeLimits;
import io.teller.balancer.edge.EdgeRejections;
import io.teller.balancer.metrics.ProxyMetrics;
import io.teller.balancer.resilience.Resilience;
import io.teller.balancer.routing.Routing;
import io.teller.balancer.strategy.LoadCounts;
import io.teller.balancer.tls.CertificateWatcher;
import io.teller.balancer.tls.TlsOptions;
import io.teller.common.auth.ApiToken;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * One event loop's share of the data plane: the HTTPS and HTTP listeners (Vert.x spreads
 * connections over every instance of this verticle) and a client with keep-alive pools to the
 * backends, so that a request and its backend exchange stay on one event loop.
 */
public final class ProxyVerticle extends VerticleBase {

  /**
   * Where and how to listen.
   *
   * @param clientIdleMillis how long a client connection may carry no byte before it is closed
   */
  public record Listeners(
      String host,
      int httpsPort,
      int httpPort,
      boolean redirectHttp,
      TlsOptions tls,
      ProxyHandler.Defaults defaults,
      int clientIdleMillis,
      EdgeLimits edgeLimits,
      int maxConnections,
      ProxyHandler.RequestRules rules) {}

  /** What every event loop's proxy shares: routing, counts, the resilience policy, meters, log. */
  public record Shared(
      Supplier<Routing> routing,
      InFlight inFlight,
      Resilience resilience,
      ProxyMetrics metrics,
      AccessLog accessLog,
      EdgeRejections rejections,
      AtomicInteger httpsConnections,
      AtomicInteger httpConnections,
      LoadCounts counts,
      ApiToken token) {}

  private final Listeners listeners;
  private final Shared shared;
  private BackendClients clients;
  private final ResponseDeadlines deadlines = new ResponseDeadlines();
  private HttpServer https;
  private HttpServer http;
  private CertificateWatcher watcher;
  private long expiryTimer = -1;

  public ProxyVerticle(Listeners listeners, Shared shared) {
    this.listeners = listeners;
    this.shared = shared;
  }

  @Override
  public Future<?> start() {
    clients = new BackendClients(vertx);
    ProxyHandler httpsHandler = handler("https");
    ProxyHandler httpHandler = handler("http");
    // Response timeouts are checked on this event loop's one timer, not one timer per request;
    // a service's own shorter timeout is honoured to within this period.
    long period = Math.max(10, Math.min(100, listeners.defaults().responseMillis() / 10));
    expiryTimer = vertx.setPeriodic(period, t -> deadlines.expire());
    HttpServerOptions httpsOptions =
        serverOptions(listeners.tls().applyTo(new HttpServerOptions()));
    Future<HttpServer> httpsListening =
        vertx
            .createHttpServer(httpsOptions)
            // The one connection handler: the edge's, whose open counts are also what
            // teller_client_connections reports (ProxyMetrics reads them).
            .connectionHandler(edge(shared.httpsConnections()))
            .requestHandler(httpsHandler)
            .listen(listeners.httpsPort(), listeners.host())
            .compose(
                server ->
                    CertificateWatcher.start(vertx, server, listeners.tls())
                        .map(
                            w -> {
                              watcher = w;
                              return server;
                            }));
    Future<HttpServer> httpListening =
        vertx
            .createHttpServer(
                serverOptions(new HttpServerOptions()).setHttp2ClearTextEnabled(false))
            .connectionHandler(edge(shared.httpConnections()))
            .requestHandler(
                listeners.redirectHttp() ? new RedirectHandler(listeners.httpsPort()) : httpHandler)
            .listen(listeners.httpPort(), listeners.host());
    return Future.all(httpsListening, httpListening)
        .onSuccess(
            all -> {
              https = all.resultAt(0);
              http = all.resultAt(1);
            });
  }

  private ProxyHandler handler(String scheme) {
    return new ProxyHandler(
        clients,
        deadlines,
        shared.routing(),
        shared.inFlight(),
        scheme,
        listeners.defaults(),
        shared.resilience(),
        shared.metrics(),
        shared.accessLog(),
        listeners.rules(),
        shared.rejections(),
        shared.counts(),
        shared.token());
  }

  private EdgeGuard edge(AtomicInteger open) {
    return new EdgeGuard(
        listeners.edgeLimits(), shared.rejections(), listeners.maxConnections(), open);
  }

  private HttpServerOptions serverOptions(HttpServerOptions options) {
    // Vert.x's own limits sit above the edge's, so that the edge decides, with its own answers;
    // the edge may add one field (connection: close) to a head it normalises.
    EdgeLimits limits = listeners.edgeLimits();
    return options
        .setMaxInitialLineLength(limits.requestLineBytes() + 256)
        .setMaxHeaderSize(limits.headerBytes() + 1024)
        .setCompressionSupported(false)
        // A WebSocket is the instance's: the balancer tunnels it and negotiates no extension of
        // its own, so Vert.x's extension handler (which looked at every request) stays out.
        .setPerMessageWebSocketCompressionSupported(false)
        .setPerFrameWebSocketCompressionSupported(false)
        .setHandle100ContinueAutomatically(false)
        .setIdleTimeout(listeners.clientIdleMillis())
        .setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(expiryTimer);
    if (watcher != null) {
      watcher.stop();
    }
    return Future.join(
        https == null ? Future.succeededFuture() : https.close(),
        http == null ? Future.succeededFuture() : http.close(),
        clients == null ? Future.succeededFuture() : clients.close());
  }
}
