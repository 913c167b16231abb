package io.teller.balancer.edge;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelPipeline;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpConnection;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Puts the edge in front of one listener's connections: a cap on the connections open at once, and
 * on every HTTP/1.x connection an {@link Http1Guard} ahead of Vert.x's decoder with its {@link
 * ResponseTracker}. HTTP/2 connections get the cap only: Netty's HTTP/2 codec frames requests
 * itself and refuses malformed ones (RFC 9113 §8.2).
 *
 * <p>The one place the balancer reaches into Vert.x's Netty pipeline: Vert.x 5.0 has no public way
 * to add a handler ahead of its HTTP decoder, so the connection is read as Vert.x's {@code
 * ConnectionBase} for its channel. Vert.x calls the connection handler while it sets the pipeline
 * up, on the channel's event loop, before the first request byte is decoded.
 */
public final class EdgeGuard implements Handler<HttpConnection> {

  private static final byte[] BUSY =
      ("HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
              + "content-length: 37\r\nconnection: close\r\n\r\n"
              + "too many connections to this listener\n")
          .getBytes(StandardCharsets.US_ASCII);

  private final EdgeLimits limits;
  private final Http1Guard.Rejections rejections;
  private final int maxConnections;
  private final AtomicInteger open;

  /**
   * @param open the listener's count of open connections, shared by every event loop serving it
   */
  public EdgeGuard(
      EdgeLimits limits, Http1Guard.Rejections rejections, int maxConnections, AtomicInteger open) {
    this.limits = limits;
    this.rejections = rejections;
    this.maxConnections = maxConnections;
    this.open = open;
  }

  @Override
  public void handle(HttpConnection connection) {
    Channel channel = ((io.vertx.core.net.impl.ConnectionBase) connection).channel();
    ChannelPipeline pipeline = channel.pipeline();
    boolean http1 = pipeline.get("httpDecoder") != null;
    if (open.incrementAndGet() > maxConnections) {
      open.decrementAndGet();
      rejections.rejected(
          Rejection.CONNECTION_LIMIT,
          "more than " + maxConnections + " connections open",
          Http1Guard.Rejections.address(channel.remoteAddress()));
      if (http1) {
        // Nothing more is decoded: the guard's place is taken by a drain that drops every byte.
        pipeline.addBefore("httpDecoder", "tellerRefused", new Discard());
        // Written from ahead of Vert.x's encoder, which takes only its own response objects.
        pipeline
            .context("tellerRefused")
            .writeAndFlush(Unpooled.wrappedBuffer(BUSY))
            .addListener(ChannelFutureListener.CLOSE);
      } else {
        channel.close();
      }
      return;
    }
    channel.closeFuture().addListener(f -> open.decrementAndGet());
    if (http1) {
      Http1Guard guard = new Http1Guard(limits, rejections);
      pipeline.addBefore("httpDecoder", "tellerGuard", guard);
      pipeline.addAfter("httpEncoder", "tellerResponses", new ResponseTracker(guard));
    }
  }

  /** Drops every byte read: for a connection refused before its first request. */
  private static final class Discard extends io.netty.channel.ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
      io.netty.util.ReferenceCountUtil.release(msg);
    }
  }
}
