package io.teller.balancer.tcp;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.teller.balancer.counting.InFlight;
import io.teller.balancer.resilience.Failure;
import io.teller.balancer.resilience.Resilience;
import io.teller.balancer.strategy.Endpoint;
import io.teller.balancer.strategy.PickContext;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection's way through an L4 listener, as a chain of stages like an HTTP request's:
 *
 * <ol>
 *   <li>route: the listener's service, or on an SNI listener the service named in the TLS
 *       ClientHello ({@link #routeByServerName()});
 *   <li>{@link #attempts admit and attempt}: counted toward the retry budget; pick an instance with
 *       the service's strategy, take a lease on its in-flight count, connect — another instance,
 *       never the same twice, when one cannot be reached and the {@link Resilience} policy allows;
 *   <li>{@link #relay relay}: bytes both ways with back-pressure ({@link Relay}); a FIN from one
 *       side is passed on after every byte before it while the other direction keeps flowing
 *       (half-close); once both directions have ended, both channels close;
 *   <li>{@link #finish() finish}, once both sides are closed: the lease given back.
 * </ol>
 *
 * Every stage fails with a {@link Failure}; {@link #fail} is the one exit: it counts the failure
 * once and closes the client's connection. The lease is held for the connection's whole life, so
 * least-connections counts open connections, shared with the other balancers as request counts are.
 *
 * <p>The client's channel and the instance's are Netty channels on one event loop (the instance's
 * is connected on the client's loop): every callback here runs there and the state needs no
 * synchronisation. Nothing on this path calls anything on the network but the chosen instance.
 */
final class TcpConnection {

  private static final Logger LOG = LoggerFactory.getLogger("teller.tcp");

  /** The most a ClientHello may take: one full TLS record's payload. */
  static final int MAX_HELLO_BYTES = 16 * 1024;

  /** A fatal TLS alert, unrecognized_name (RFC 6066 section 3), as a TLS 1.2 record. */
  private static final byte[] UNRECOGNIZED_NAME = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70};

  private final Channel client;
  private final int port;
  private final TcpRouter router;
  private final Bootstrap connector;
  private final TcpOptions options;
  private final InFlight inFlight;
  private final Resilience resilience;
  private final TcpStats.Listener stats;
  private final Front front = new Front();
  private TcpRoutes.Target target;
  private Resilience.Tries tries;
  private Failure lastFailure;
  private ServerNameReader sni;
  private Promise<String> serverName;
  private InFlight.Lease lease;
  private LongAdder openToInstance;
  private Channel backend;
  private int directionsEnded;
  private boolean clientClosed;
  private boolean backendClosed;
  private boolean finished;

  /**
   * @param client the accepted channel
   * @param connector connects to instances; each connection on the client's event loop
   */
  TcpConnection(
      Channel client,
      int port,
      TcpRouter router,
      Bootstrap connector,
      TcpOptions options,
      InFlight inFlight,
      Resilience resilience) {
    this.client = client;
    this.port = port;
    this.router = router;
    this.connector = connector;
    this.options = options;
    this.inFlight = inFlight;
    this.resilience = resilience;
    this.stats = router.stats().listener(port);
  }

  /** Takes the freshly accepted channel in hand (from the listener's channel initializer). */
  void install() {
    client.pipeline().addLast(front);
  }

  /** Once the client's channel is active. */
  private void start() {
    stats.accepted.increment();
    stats.open.increment();
    client
        .closeFuture()
        .addListener(
            f -> {
              clientClosed = true;
              closed();
            });
    // Plain calls, not a chain of futures: a connection is short, and on a listener for one
    // service every stage but the connect completes at once.
    TcpRoutes.Listener listener = router.routes().listeners().get(port);
    if (listener == null) {
      fail(Failure.noRoute("port " + port + " (its listener was removed)"));
    } else if (listener.spec().kind() == ListenerSpec.Kind.SNI) {
      routeByServerName()
          .onSuccess(this::attempts)
          .onFailure(cause -> fail(Failure.of(cause, service())));
    } else if (listener.target() == null) {
      fail(Failure.unknownService(listener.spec().service()));
    } else {
      attempts(listener.target());
    }
  }

  /** On an SNI listener, the service named in the TLS ClientHello. */
  private Future<TcpRoutes.Target> routeByServerName() {
    // Reads until the ClientHello is whole; its bytes then wait in the front handler.
    sni = new ServerNameReader(MAX_HELLO_BYTES, options.helloTimeoutMillis());
    serverName = Promise.promise();
    client.pipeline().addBefore(client.pipeline().context(front).name(), null, sni);
    return serverName
        .future()
        .compose(
            name -> {
              TcpRoutes routes = router.routes();
              String service = routes.sni().service(name);
              TcpRoutes.Target found = service == null ? null : routes.pools().get(service);
              return found == null
                  ? Future.failedFuture(Failure.noRoute("server name " + name))
                  : Future.succeededFuture(found);
            });
  }

  /** Admits the connection, then tries instances until one is connected or none may be. */
  private void attempts(TcpRoutes.Target target) {
    this.target = target;
    // What a stage throws (a picker, say) fails the connection through the one exit, as any
    // failure does.
    try {
      resilience.admitted();
      tries = resilience.tries(target.pool());
      attempt();
    } catch (RuntimeException e) {
      fail(Failure.of(e, service()));
    }
  }

  /** Connects to an instance; then the relay, or the next attempt, or the failure. */
  private void attempt() {
    if (clientClosed) {
      fail(Failure.clientGone(service(), null));
      return;
    }
    Endpoint endpoint = target.picker().pick(pick);
    if (endpoint == null) {
      fail(lastFailure != null ? lastFailure : Failure.noInstance(service()));
      return;
    }
    tries.add(endpoint.id());
    InFlight.Lease attempt = inFlight.acquire(endpoint.id());
    // The instance's relay is its channel's handler from the start: relay() runs as the connect
    // completes, before the channel's first read.
    ChannelFuture connecting =
        connector
            .clone(client.eventLoop())
            .handler(new Relay(client, stats.bytesToClients, this::directionEnded))
            .connect(address(endpoint.host(), endpoint.port()));
    connecting.addListener(
        (ChannelFutureListener)
            done -> {
              if (!done.isSuccess()) {
                attempt.release();
                stats.connectFailures.increment();
                lastFailure = Failure.connect(service(), endpoint.id(), done.cause());
                resilience.record(lastFailure);
                LOG.debug("TCP port {}: {}", port, lastFailure.reason());
                if (resilience.retry(tries, lastFailure)) {
                  attempt();
                } else {
                  fail(lastFailure);
                }
                return;
              }
              Channel channel = done.channel();
              resilience.reached(endpoint.id());
              if (clientClosed) {
                attempt.release();
                channel.close();
                fail(Failure.clientGone(service(), endpoint.id()));
                return;
              }
              lease = attempt;
              openToInstance = stats.instance(endpoint.id());
              openToInstance.increment();
              relay(channel);
            });
  }

  /** An IP address as it is; a host name left to the connector's resolver (Vert.x's, async). */
  private static InetSocketAddress address(String host, int port) {
    InetAddress literal = NetUtil.createInetAddressFromIpAddressString(host);
    return literal != null
        ? new InetSocketAddress(literal, port)
        : InetSocketAddress.createUnresolved(host, port);
  }

  /** Bytes both ways until each direction has ended, or either side closes. */
  private void relay(Channel backend) {
    this.backend = backend;
    backend
        .closeFuture()
        .addListener(
            f -> {
              backendClosed = true;
              closed();
            });
    // What the client sent meanwhile goes first (on the connection's first bytes, no wait for
    // another read); a FIN read with it, after it.
    ByteBuf early = front.early;
    front.early = null;
    if (early != null) {
      stats.bytesToInstances.add(early.readableBytes());
      backend.writeAndFlush(early, backend.voidPromise());
    }
    client
        .pipeline()
        .replace(front, null, new Relay(backend, stats.bytesToInstances, this::directionEnded));
    if (front.inputShutdown) {
      client.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
    }
    client.config().setAutoRead(true);
  }

  /** One direction's FIN was passed on; after both, the connection is done. */
  private void directionEnded() {
    if (++directionsEnded == 2) {
      client.close();
      backend.close();
    }
  }

  /** The one exit for failures: counted once, then the client's connection closed. */
  private void fail(Failure failure) {
    resilience.record(failure);
    if (failure.kind() == Failure.Kind.CLIENT_GONE) {
      return;
    }
    LOG.debug("TCP port {}: client {} closed: {}", port, client.remoteAddress(), failure.reason());
    stats.failed.increment();
    if (sni != null && failure.kind() == Failure.Kind.NO_ROUTE) {
      // A TLS client is told in TLS terms that no one here serves the name it asked for.
      client
          .writeAndFlush(Unpooled.wrappedBuffer(UNRECOGNIZED_NAME))
          .addListener(ChannelFutureListener.CLOSE);
    } else {
      client.close();
    }
  }

  /** A side closed: the relays close the other; once both are closed the connection is done. */
  private void closed() {
    if (clientClosed && (backend == null || backendClosed)) {
      finish();
    }
  }

  private void finish() {
    if (finished) {
      return;
    }
    finished = true;
    ReferenceCountUtil.release(front.early);
    front.early = null;
    stats.open.decrement();
    if (openToInstance != null) {
      openToInstance.decrement();
    }
    if (lease != null) {
      lease.release();
    }
  }

  private String service() {
    return target == null ? null : target.pool().service().name();
  }

  /**
   * The client channel's handler until the relay takes over: starts the chain once the channel is
   * active, takes the ClientHello reader's outcome, and keeps what the client sends meanwhile for
   * the instance: its first read (the hello's bytes on an SNI listener), after which reading stops
   * until the relay, and a FIN.
   */
  private final class Front extends ChannelInboundHandlerAdapter {
    ByteBuf early;
    boolean inputShutdown;

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      start();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf bytes = (ByteBuf) msg;
      early = early == null ? bytes : Unpooled.wrappedBuffer(early, bytes);
      ctx.channel().config().setAutoRead(false);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
      if (event instanceof SniCompletionEvent done && sni != null) {
        sni.outcome(done).onComplete(serverName);
      } else if (event == ChannelInputShutdownEvent.INSTANCE) {
        inputShutdown = true;
      }
      ReferenceCountUtil.release(event);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug(
          "TCP port {}: client {}: {}", port, ctx.channel().remoteAddress(), cause.toString());
      ctx.close();
    }
  }

  /** The picker's view of a connection: the client's address, and the instances not to pick. */
  private final PickContext pick =
      new PickContext() {
        @Override
        public String header(String name) {
          return null;
        }

        @Override
        public String cookie(String name) {
          return null;
        }

        @Override
        public String clientAddress() {
          return client.remoteAddress() instanceof InetSocketAddress remote
                  && remote.getAddress() != null
              ? remote.getAddress().getHostAddress()
              : "";
        }

        @Override
        public Set<String> excluded() {
          return tries.excluded();
        }
      };
}
