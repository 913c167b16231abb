package io.teller.balancer.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves the bytes read on its channel to the peer channel, one direction of a connection, as
 * Netty's HexDumpProxy does: each read's buffer is written on as it is (no copy), flushed once per
 * batch of reads. Back-pressure: while the peer's outbound buffer is over its high-water mark
 * reading stops ({@code autoRead} off), and the peer's relay turns it back on when it drains, so a
 * slow reader never makes the balancer buffer without bound.
 *
 * <p>Half-close: both channels allow half-closure, so the source's FIN shuts only its input; the
 * peer gets a FIN once every byte before it is written, and the other direction goes on. A channel
 * whose output was shut down stops allowing half-closure: its own FIN, the connection's second,
 * closes it, and its relay then closes the peer (every byte each way is through by then: the close
 * says FIN). When the source closes outright (a reset, an idle timeout, the balancer), the peer is
 * closed once what was written to it is flushed.
 *
 * <p>Both channels of a connection are on one event loop, so the two relays need no
 * synchronisation.
 */
final class Relay extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger("teller.tcp");

  private final Channel peer;
  private final LongAdder bytes;
  private final Runnable ended;

  /**
   * @param peer the channel written to
   * @param bytes counts the bytes moved
   * @param ended told once the source's FIN has been passed on
   */
  Relay(Channel peer, LongAdder bytes, Runnable ended) {
    this.peer = peer;
    this.bytes = bytes;
    this.ended = ended;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf buffer = (ByteBuf) msg;
    bytes.add(buffer.readableBytes());
    peer.write(buffer, peer.voidPromise());
    if (!peer.isWritable()) {
      ctx.channel().config().setAutoRead(false);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    peer.flush();
  }

  /** This channel's outbound buffer (fed by the peer's relay) filled or drained. */
  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    peer.config().setAutoRead(ctx.channel().isWritable());
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event != ChannelInputShutdownEvent.INSTANCE) {
      ctx.fireUserEventTriggered(event);
      return;
    }
    // An empty write completes once every write before it is on the wire (the outbound buffer is
    // in order); shutting the output down at once would fail the writes still queued.
    peer.writeAndFlush(Unpooled.EMPTY_BUFFER)
        .addListener(
            (ChannelFutureListener)
                written -> {
                  if (written.isSuccess() && peer instanceof DuplexChannel duplex) {
                    // The peer's own FIN will then end the connection: Netty closes the peer on
                    // it, and the peer's relay closes this channel once flushed (channelInactive).
                    // Left half-closable, the peer would shut down the input of a socket that is
                    // closed both ways by then: a failing system call and an exception with its
                    // stack trace (Netty's) per connection.
                    peer.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
                    duplex.shutdownOutput().addListener(shut -> ended.run());
                  } else {
                    peer.close();
                    ended.run();
                  }
                });
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    // A peer closed already (the connection ended both ways) is left alone: a write or a close
    // on a closed channel only makes Netty an exception to say so.
    if (peer.isOpen()) {
      peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.debug("TCP {}: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }
}
