package io.teller.balancer.proxy;

import io.teller.balancer.counting.Ejections;
import io.teller.balancer.counting.InFlight;

import io.teller.balancer.routing.Routing;
import io.teller.balancer.tls.CertificateWatcher;
import io.teller.balancer.tls.TlsOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.PoolOptions;
import java.util.function.Supplier;

/**
 * One event loop's share of the data plane: the HTTPS and HTTP listeners (Vert.x spreads
 * connections over every instance of this verticle) and a client with keep-alive pools to the
 * backends, so that a request and its backend exchange stay on one event loop.
 */
public final class ProxyVerticle extends VerticleBase {

  /** Where and how to listen. */
  public record Listeners(String host, int httpsPort, int httpPort, boolean redirectHttp, TlsOptions tls,
      ProxyHandler.Timeouts timeouts, int connectTimeoutMillis) {}

  private static final int MAX_CONNECTIONS_PER_INSTANCE = 1024;

  private final Listeners listeners;
  private final Supplier<Routing> routing;
  private final InFlight inFlight;
  private final Ejections ejections;
  private HttpClient client;
  private HttpServer https;
  private HttpServer http;
  private CertificateWatcher watcher;
  private long expiryTimer = -1;

  public ProxyVerticle(Listeners listeners, Supplier<Routing> routing, InFlight inFlight, Ejections ejections) {
    this.listeners = listeners;
    this.routing = routing;
    this.inFlight = inFlight;
    this.ejections = ejections;
  }

  @Override
  public Future<?> start() {
    client = vertx.createHttpClient(
        new HttpClientOptions().setKeepAlive(true).setConnectTimeout(listeners.connectTimeoutMillis()).setMaxRedirects(0)
            .setDecompressionSupported(false),
        new PoolOptions().setHttp1MaxSize(MAX_CONNECTIONS_PER_INSTANCE).setMaxWaitQueueSize(-1));

    ProxyHandler httpsHandler = new ProxyHandler(client, routing, inFlight, "https", listeners.timeouts(), ejections);
    ProxyHandler httpHandler = new ProxyHandler(client, routing, inFlight, "http", listeners.timeouts(), ejections);
    // Response timeouts are checked on this event loop's one timer, not one timer per request.
    long period = Math.max(10, Math.min(100, listeners.timeouts().responseMillis() / 10));
    expiryTimer = vertx.setPeriodic(period, t -> {
      httpsHandler.expire();
      httpHandler.expire();
    });
    HttpServerOptions httpsOptions = listeners.tls().applyTo(new HttpServerOptions())
        .setCompressionSupported(false).setHandle100ContinueAutomatically(false);
    Future<HttpServer> httpsListening = vertx.createHttpServer(httpsOptions)
        .requestHandler(httpsHandler)
        .listen(listeners.httpsPort(), listeners.host())
        .compose(server -> CertificateWatcher.start(vertx, server, listeners.tls())
            .map(w -> {
              watcher = w;
              return server;
            }));
    Future<HttpServer> httpListening = vertx.createHttpServer(new HttpServerOptions().setCompressionSupported(false))
        .requestHandler(listeners.redirectHttp() ? new RedirectHandler(listeners.httpsPort())
            : httpHandler)
        .listen(listeners.httpPort(), listeners.host());
    return Future.all(httpsListening, httpListening).onSuccess(all -> {
      https = all.resultAt(0);
      http = all.resultAt(1);
    });
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
        client == null ? Future.succeededFuture() : client.close());
  }
}
