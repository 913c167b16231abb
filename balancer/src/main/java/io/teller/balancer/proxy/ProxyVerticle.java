package io.teller.balancer.proxy;

import io.teller.balancer.counting.Ejections;
import io.teller.balancer.counting.InFlight;
import io.teller.balancer.counting.RetryBudget;
import io.teller.balancer.metrics.ProxyMetrics;
import io.teller.balancer.routing.Routing;
import io.teller.balancer.tls.CertificateWatcher;
import io.teller.balancer.tls.TlsOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.util.concurrent.TimeUnit;
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
      int clientIdleMillis) {}

  /** What every event loop's proxy shares: counts, ejections, the retry budget, meters, the log. */
  public record Shared(
      Supplier<Routing> routing,
      InFlight inFlight,
      Ejections ejections,
      RetryBudget budget,
      ProxyMetrics metrics,
      AccessLog accessLog) {}

  private final Listeners listeners;
  private final Shared shared;
  private BackendClients clients;
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
    expiryTimer =
        vertx.setPeriodic(
            period,
            t -> {
              httpsHandler.expire();
              httpHandler.expire();
            });
    HttpServerOptions httpsOptions =
        serverOptions(listeners.tls().applyTo(new HttpServerOptions()));
    Future<HttpServer> httpsListening =
        vertx
            .createHttpServer(httpsOptions)
            .connectionHandler(shared.metrics()::clientConnected)
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
            .createHttpServer(serverOptions(new HttpServerOptions()))
            .connectionHandler(shared.metrics()::clientConnected)
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
        shared.routing(),
        shared.inFlight(),
        scheme,
        listeners.defaults(),
        shared.ejections(),
        shared.budget(),
        shared.metrics(),
        shared.accessLog());
  }

  private HttpServerOptions serverOptions(HttpServerOptions options) {
    return options
        .setCompressionSupported(false)
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
