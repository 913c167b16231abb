import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.Arrays;

/**
 * A minimal L4 (TCP) forwarder written directly on Netty 4.2, to measure what Netty's channels
 * cost per connection with nothing of Teller's on top (bench/tcp.sh --netty-proto): no routing
 * table, no counts, no statistics, no idle timeouts. One event loop group of 2 threads (transport
 * from {@code -Dnetty.transport}: io_uring, the default and Teller's, epoll or nio); an accepted
 * connection is connected to the next backend port (round robin per event loop) on its own event
 * loop, with reading off until then; bytes are passed on as read, flushed per batch of reads, with
 * the same back-pressure and half-close handling as Teller's relay (a FIN is passed on once what
 * came before it is written; the second FIN closes). Usage:
 * java -cp balancer/target/teller-balancer.jar bench/NettyTcpForward.java PORT BACKEND_PORT...
 */
public final class NettyTcpForward {
  static final String TRANSPORT = System.getProperty("netty.transport", "io_uring");
  static int[] backendPorts;
  static final FastThreadLocal<int[]> NEXT = new FastThreadLocal<>() {
    @Override protected int[] initialValue() { return new int[1]; }
  };

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: NettyTcpForward PORT BACKEND_PORT...");
      System.exit(2);
    }
    backendPorts = Arrays.stream(args, 1, args.length).mapToInt(Integer::parseInt).toArray();
    IoHandlerFactory factory;
    Class<? extends ServerChannel> serverChannel;
    Class<? extends Channel> clientChannel;
    switch (TRANSPORT) {
      case "io_uring" -> { factory = IoUringIoHandler.newFactory();
        serverChannel = IoUringServerSocketChannel.class; clientChannel = IoUringSocketChannel.class; }
      case "epoll" -> { factory = EpollIoHandler.newFactory();
        serverChannel = EpollServerSocketChannel.class; clientChannel = EpollSocketChannel.class; }
      case "nio" -> { factory = NioIoHandler.newFactory();
        serverChannel = NioServerSocketChannel.class; clientChannel = NioSocketChannel.class; }
      default -> throw new IllegalArgumentException("netty.transport " + TRANSPORT);
    }
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, factory);
    new ServerBootstrap().group(group).channel(serverChannel)
        .option(ChannelOption.SO_BACKLOG, 1024)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.AUTO_READ, false)
        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override protected void initChannel(Channel client) {
            int[] next = NEXT.get();
            int port = backendPorts[next[0]++ % backendPorts.length];
            new Bootstrap().group(client.eventLoop()).channel(clientChannel)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .handler(new ChannelInboundHandlerAdapter())
                .connect("127.0.0.1", port)
                .addListener((ChannelFutureListener) connected -> {
                  Channel backend = connected.channel();
                  if (!connected.isSuccess()) {
                    client.close();
                    return;
                  }
                  if (!client.isActive()) {
                    backend.close();
                    return;
                  }
                  client.pipeline().addLast(new Relay(backend));
                  backend.pipeline().addLast(new Relay(client));
                  client.config().setAutoRead(true);
                  backend.config().setAutoRead(true);
                });
          }
        })
        .bind("127.0.0.1", Integer.parseInt(args[0])).sync();
    System.out.println("netty-tcp-forward ready: :" + args[0] + " (" + TRANSPORT + "), backends "
        + Arrays.toString(backendPorts));
  }

  /** One direction of a connection: what its channel reads is written to the peer. */
  static final class Relay extends ChannelInboundHandlerAdapter {
    final Channel peer;

    Relay(Channel peer) { this.peer = peer; }

    @Override public void channelRead(ChannelHandlerContext ctx, Object msg) {
      peer.write((ByteBuf) msg, peer.voidPromise());
      if (!peer.isWritable()) ctx.channel().config().setAutoRead(false);
    }

    @Override public void channelReadComplete(ChannelHandlerContext ctx) { peer.flush(); }

    @Override public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      peer.config().setAutoRead(ctx.channel().isWritable());
    }

    @Override public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
      if (event != ChannelInputShutdownEvent.INSTANCE) return;
      peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) written -> {
        if (written.isSuccess()) {
          peer.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
          ((DuplexChannel) peer).shutdownOutput();
        } else {
          peer.close();
        }
      });
    }

    @Override public void channelInactive(ChannelHandlerContext ctx) {
      if (peer.isOpen()) peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    @Override public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) { ctx.close(); }
  }
}
