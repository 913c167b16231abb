package io.teller.balancer.tcp;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.teller.balancer.counting.InFlight;
import io.teller.balancer.resilience.Resilience;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The L4 data plane's listeners: one Netty server on every port of the current {@link TcpRoutes}
 * (see {@link VertxNetty} for why Netty rather than Vert.x's {@code NetServer}). Accepted
 * connections go to a given number of Vert.x's event loops in turn, and each one's instance
 * connection is made on its loop. Listeners open and close as the routes change, without a restart;
 * a removed listener stops accepting at once and leaves its open connections their drain time.
 * Deploy one instance: a port is bound once.
 */
public final class TcpVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger("teller.tcp");

  private final TcpOptions options;
  private final TcpRouter router;
  private final InFlight inFlight;
  private final Resilience resilience;
  private final int eventLoops;
  private final Map<Integer, Open> open = new HashMap<>();
  private EventLoopGroup loops;
  private Bootstrap connector;
  private Runnable unsubscribe = () -> {};

  /** A listener of this verticle, the spec it was opened for, and its open connections. */
  private record Open(ListenerSpec spec, Future<Channel> server, ChannelGroup connections) {}

  /**
   * @param eventLoops how many of Vert.x's event loops serve the connections
   */
  public TcpVerticle(
      TcpOptions options,
      TcpRouter router,
      InFlight inFlight,
      Resilience resilience,
      int eventLoops) {
    this.options = options;
    this.router = router;
    this.inFlight = inFlight;
    this.resilience = resilience;
    this.eventLoops = eventLoops;
  }

  @Override
  public Future<?> start() {
    loops = VertxNetty.eventLoops(vertx, eventLoops);
    connector =
        VertxNetty.client(vertx)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, options.connectTimeoutMillis())
            .option(ChannelOption.ALLOW_HALF_CLOSURE, true);
    // No TCP_NODELAY option, here or on the listeners' connections: Netty sets it on every
    // channel it makes (all transports, off Android), and setting it again cost a setsockopt
    // call per connection on each side.
    unsubscribe = router.subscribe(context, this::apply);
    // Configured listeners must bind, as the HTTPS port must: a port in use fails the start.
    List<Future<Channel>> configured = new ArrayList<>();
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
              Open gone = entry.getValue();
              gone.server().onSuccess(Channel::close);
              vertx.setTimer(
                  Math.max(1, gone.spec().drainMillis()), t -> gone.connections().close());
              return true;
            });
    wanted.forEach(
        (port, spec) -> {
          if (!open.containsKey(port)) {
            ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
            open.put(port, new Open(spec, listen(port, spec, connections), connections));
          }
        });
  }

  private Future<Channel> listen(int port, ListenerSpec spec, ChannelGroup connections) {
    ServerBootstrap server =
        VertxNetty.server(vertx, loops)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel channel) {
                    connections.add(channel);
                    if (options.idleTimeoutMillis() > 0) {
                      channel.pipeline().addLast(new IdleClose(options.idleTimeoutMillis()));
                    }
                    new TcpConnection(
                            channel, port, router, connector, options, inFlight, resilience)
                        .install();
                  }
                });
    Promise<Channel> bound = Promise.promise();
    server
        .bind(options.host(), port)
        .addListener(
            done ->
                // Back on this verticle's context, which owns the listeners.
                context.runOnContext(
                    v -> {
                      if (done.isSuccess()) {
                        bound.complete(((io.netty.channel.ChannelFuture) done).channel());
                      } else {
                        bound.fail(done.cause());
                      }
                    }));
    return bound
        .future()
        .onSuccess(channel -> router.bindFailures().remove(port))
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
            o -> {
              closing.add(
                  o.server()
                      .compose(channel -> settled(channel.close()), e -> Future.succeededFuture()));
              closing.add(settled(o.connections().close()));
            });
    open.clear();
    return Future.join(closing);
  }

  /** A Netty operation's end, as a future completed on this verticle's context. */
  private Future<Void> settled(io.netty.util.concurrent.Future<?> operation) {
    Promise<Void> done = Promise.promise();
    operation.addListener(f -> context.runOnContext(v -> done.complete()));
    return done.future();
  }

  /** Closes a connection with no byte either way for the idle timeout. */
  private static final class IdleClose extends IdleStateHandler {
    IdleClose(long millis) {
      super(0, 0, millis, TimeUnit.MILLISECONDS);
    }

    @Override
    protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent event) {
      ctx.close();
    }
  }
}
