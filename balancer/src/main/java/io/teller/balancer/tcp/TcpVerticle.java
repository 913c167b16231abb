package io.teller.balancer.tcp;

import io.teller.balancer.counting.InFlight;
import io.teller.balancer.resilience.Resilience;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One event loop's share of the L4 data plane: a listener on every port of the current {@link
 * TcpRoutes} (Vert.x spreads each port's connections over every instance of this verticle) and a
 * client to the instances, so that a connection and its instance connection stay on one event loop.
 * Listeners open and close as the routes change, without a restart; a removed listener stops
 * accepting at once and leaves its open connections their drain time.
 */
public final class TcpVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger("teller.tcp");

  private final TcpOptions options;
  private final TcpRouter router;
  private final InFlight inFlight;
  private final Resilience resilience;
  private final Map<Integer, Open> open = new HashMap<>();
  private NetClient connector;
  private Runnable unsubscribe = () -> {};

  /** A listener of this verticle, and the spec it was opened for. */
  private record Open(ListenerSpec spec, Future<NetServer> server) {}

  public TcpVerticle(
      TcpOptions options, TcpRouter router, InFlight inFlight, Resilience resilience) {
    this.options = options;
    this.router = router;
    this.inFlight = inFlight;
    this.resilience = resilience;
  }

  @Override
  public Future<?> start() {
    connector =
        vertx.createNetClient(
            new NetClientOptions()
                .setConnectTimeout(options.connectTimeoutMillis())
                .setIdleTimeout(options.idleTimeoutMillis())
                .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
                .setTcpNoDelay(true));
    unsubscribe = router.subscribe(context, this::apply);
    // Configured listeners must bind, as the HTTPS port must: a port in use fails the start.
    List<Future<NetServer>> configured = new ArrayList<>();
    apply(router.routes());
    open.values().stream()
        .filter(o -> o.spec().origin().equals(ListenerSpec.FROM_CONFIG))
        .forEach(o -> configured.add(o.server()));
    return Future.all(configured);
  }

  /** Opens the listeners that are new, closes the ones that are gone. */
  private void apply(TcpRoutes routes) {
    Map<Integer, ListenerSpec> wanted = routes.specs();
    open.entrySet()
        .removeIf(
            entry -> {
              if (wanted.containsKey(entry.getKey())) {
                return false;
              }
              long drain = entry.getValue().spec().drainMillis();
              entry
                  .getValue()
                  .server()
                  .onSuccess(server -> server.shutdown(drain, TimeUnit.MILLISECONDS));
              return true;
            });
    wanted.forEach(
        (port, spec) -> {
          if (!open.containsKey(port)) {
            open.put(port, new Open(spec, listen(port, spec)));
          }
        });
  }

  private Future<NetServer> listen(int port, ListenerSpec spec) {
    NetServerOptions serverOptions =
        new NetServerOptions()
            .setHost(options.host())
            .setPort(port)
            .setIdleTimeout(options.idleTimeoutMillis())
            .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
            .setTcpNoDelay(true);
    return vertx
        .createNetServer(serverOptions)
        .connectHandler(
            socket ->
                new TcpConnection(socket, port, router, connector, options, inFlight, resilience)
                    .start())
        .listen()
        .onSuccess(server -> router.bindFailures().remove(port))
        .onFailure(
            e -> {
              if (router.bindFailures().add(port)) {
                LOG.error(
                    "TCP listener {} cannot listen on {}:{}: {}",
                    spec,
                    options.host(),
                    port,
                    e.getMessage());
              }
              // Forget it, so that the next change of the routes tries again.
              if (open.containsKey(port) && open.get(port).spec().equals(spec)) {
                open.remove(port);
              }
            });
  }

  @Override
  public Future<?> stop() {
    unsubscribe.run();
    List<Future<Void>> closing = new ArrayList<>();
    open.values()
        .forEach(
            o -> closing.add(o.server().compose(NetServer::close, e -> Future.succeededFuture())));
    open.clear();
    if (connector != null) {
      closing.add(connector.close());
    }
    return Future.join(closing);
  }
}
