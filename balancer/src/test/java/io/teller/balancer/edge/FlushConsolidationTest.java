package io.teller.balancer.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.local.LocalServerChannel;
import io.netty.handler.ssl.SslHandler;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Where the HTTP/2 flush consolidation sits and what it does, on Netty's in-process transport with
 * a real event loop: the responses written in one event-loop pass leave in one flush, after the
 * pass, and one written just before a close still leaves.
 */
class FlushConsolidationTest {

  /** Counts the flushes that reach the socket side of the pipeline. */
  static final class FlushCounter extends ChannelOutboundHandlerAdapter {
    volatile int flushes;

    @Override
    public void flush(ChannelHandlerContext ctx) {
      flushes++;
      ctx.flush();
    }
  }

  final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());

  @AfterEach
  void stop() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void sitsBetweenTlsAndTheHttp2CodecSoTheCodecsFlushesPassThroughIt() throws Exception {
    SSLEngine engine = SSLContext.getDefault().createSSLEngine();
    engine.setUseClientMode(false);
    EmbeddedChannel channel = new EmbeddedChannel();
    channel.pipeline().addLast("ssl", new SslHandler(engine));
    channel.pipeline().addLast("handler", new ChannelDuplexHandler());

    EdgeGuard.consolidateFlushes(channel.pipeline());

    assertThat(channel.pipeline().names().subList(0, 3))
        .containsExactly("ssl", EdgeGuard.FLUSH_CONSOLIDATION, "handler");
    channel.finishAndReleaseAll();
  }

  @Test
  void responsesWrittenInOnePassLeaveInOneFlushAfterItAndNoneIsHeldBackByAClose() throws Exception {
    LocalAddress address = new LocalAddress("flush-" + UUID.randomUUID());
    BlockingQueue<Integer> received = new LinkedBlockingQueue<>();
    BlockingQueue<String> closed = new LinkedBlockingQueue<>();
    new ServerBootstrap()
        .group(group)
        .channel(LocalServerChannel.class)
        .childHandler(
            new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf buffer = (ByteBuf) msg;
                while (buffer.readableBytes() >= Integer.BYTES) {
                  received.add(buffer.readInt());
                }
                buffer.release();
              }

              @Override
              public void channelInactive(ChannelHandlerContext ctx) {
                closed.add("closed");
              }
            })
        .bind(address)
        .sync();
    FlushCounter socket = new FlushCounter();
    Channel channel =
        new Bootstrap()
            .group(group)
            .channel(LocalChannel.class)
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline().addLast("handler", new ChannelDuplexHandler());
                    EdgeGuard.consolidateFlushes(ch.pipeline());
                    // Without TLS it goes first; the counter stands for the socket, ahead of it.
                    ch.pipeline().addFirst("socket", socket);
                  }
                })
            .connect(address)
            .sync()
            .channel();
    assertThat(channel.pipeline().names().subList(0, 3))
        .containsExactly("socket", EdgeGuard.FLUSH_CONSOLIDATION, "handler");
    ChannelHandlerContext codec = channel.pipeline().context("handler");

    // Three streams answered in one pass (as from three backend reads), each with its flush.
    int flushesDuringThePass =
        channel
            .eventLoop()
            .submit(
                () -> {
                  for (int stream = 1; stream <= 3; stream++) {
                    codec.writeAndFlush(Unpooled.copyInt(stream));
                  }
                  return socket.flushes;
                })
            .get(5, TimeUnit.SECONDS);
    int flushesAfterThePass =
        channel.eventLoop().submit(() -> socket.flushes).get(5, TimeUnit.SECONDS);

    assertThat(flushesDuringThePass).isZero();
    assertThat(flushesAfterThePass).isEqualTo(1);
    assertThat(List.of(take(received), take(received), take(received))).containsExactly(1, 2, 3);

    channel
        .eventLoop()
        .submit(
            () -> {
              codec.writeAndFlush(Unpooled.copyInt(4));
              codec.close();
            })
        .get(5, TimeUnit.SECONDS);

    assertThat(take(received)).isEqualTo(4);
    assertThat(closed.poll(5, TimeUnit.SECONDS)).isEqualTo("closed");
    assertThat(socket.flushes).isEqualTo(2);
  }

  private static Integer take(BlockingQueue<Integer> queue) throws InterruptedException {
    Integer value = queue.poll(5, TimeUnit.SECONDS);
    assertThat(value).as("a response reached the peer within 5 s").isNotNull();
    return value;
  }
}
