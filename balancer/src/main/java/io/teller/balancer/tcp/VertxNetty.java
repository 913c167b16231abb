package io.teller.balancer.tcp;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.net.impl.VertxEventLoopGroup;
import io.vertx.core.spi.transport.Transport;

/**
 * The one place Teller reaches below Vert.x's public API, through {@code
 * io.vertx.core.internal.VertxInternal} and {@code io.vertx.core.net.impl.VertxEventLoopGroup}
 * (which the style guide otherwise forbids): the L4 path runs on plain Netty channels, on Vert.x's
 * own event loops and transport.
 *
 * <p>Why not Vert.x's {@code NetServer}/{@code NetClient}: every read of a {@code NetSocket} is
 * copied into a new heap buffer ({@code VertxHandler.safeBuffer}), and every connection builds two
 * Vert.x connection objects with their queues and futures; in bench/tcp.sh (2026-11-29) that was
 * most of the balancer's samples outside the kernel and held L4 to 0.69x HAProxy's connections per
 * second. A relay of Netty channels passes each read's {@code ByteBuf} on as it is. Vert.x 5.0 also
 * lacks half-close ({@code ALLOW_HALF_CLOSURE}), which Netty has.
 */
final class VertxNetty {

  private VertxNetty() {}

  /**
   * {@code count} of Vert.x's event loops (all of them if it has fewer), as a group that hands them
   * out in turn: Vert.x's own, the one its {@code NetServer} spreads connections with.
   */
  static EventLoopGroup eventLoops(Vertx vertx, int count) {
    VertxEventLoopGroup loops = new VertxEventLoopGroup();
    for (EventExecutor loop : ((VertxInternal) vertx).nettyEventLoopGroup()) {
      if (loops.workerCount() < count) {
        loops.addWorker((EventLoop) loop);
      }
    }
    return loops;
  }

  /**
   * A server bootstrap that accepts on one of {@code loops} and gives each connection to one of
   * them in turn, with the transport Vert.x runs on (NIO, or epoll and io_uring when Vert.x uses
   * them). Not on Vert.x's acceptor thread: a connection accepted there always wakes another
   * thread, and on a machine busy with small connections that hand-off is most of their latency.
   */
  static ServerBootstrap server(Vertx vertx, EventLoopGroup loops) {
    VertxInternal internal = (VertxInternal) vertx;
    Transport transport = internal.transport();
    return new ServerBootstrap()
        .group(loops, loops)
        .channelFactory(transport.serverChannelFactory(false));
  }

  /**
   * The name of the transport of Vert.x's event loops: {@code io_uring}, {@code epoll}, {@code
   * nio}, or their I/O handler's class name if none of these.
   */
  static String transportName(Vertx vertx) {
    EventLoopGroup loops = ((VertxInternal) vertx).nettyEventLoopGroup();
    if (loops instanceof IoEventLoopGroup io) {
      if (io.isIoType(IoUringIoHandler.class)) {
        return "io_uring";
      }
      if (io.isIoType(EpollIoHandler.class)) {
        return "epoll";
      }
      if (io.isIoType(NioIoHandler.class)) {
        return "nio";
      }
    }
    return loops.getClass().getName();
  }

  /**
   * A client bootstrap, without event loop (each connection takes its client's, see {@link
   * Bootstrap#clone(io.netty.channel.EventLoopGroup)}), that resolves host names with Vert.x's
   * resolver: Netty's default would block the event loop on the JDK's lookup.
   */
  static Bootstrap client(Vertx vertx) {
    VertxInternal internal = (VertxInternal) vertx;
    return new Bootstrap()
        .channelFactory(internal.transport().channelFactory(false))
        .resolver(internal.nameResolver().nettyAddressResolverGroup());
  }
}
