package io.teller.balancer.edge;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslHandler;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpConnection;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Puts the edge in front of one listener's connections: a cap on the connections open at once, and
 * on every HTTP/1.x connection an {@link Http1Guard} ahead of Vert.x's decoder with its {@link
 * ResponseTracker}. HTTP/2 connections get the cap and {@link #consolidateFlushes flushes put
 * together}, no guard: Netty's HTTP/2 codec frames requests itself and refuses malformed ones (RFC
 * 9113 §8.2).
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

  /** Name of the handler that puts an HTTP/2 connection's flushes together. */
  static final String FLUSH_CONSOLIDATION = "tellerFlushConsolidation";

  /** A flush goes out at once after this many held back, so a long pass cannot starve a socket. */
  private static final int FLUSHES_BEFORE_EXPLICIT = 256;

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
    } else {
      consolidateFlushes(pipeline);
    }
  }

  /**
   * Writes the answers of an HTTP/2 connection's streams in one TLS record and one system call per
   * event-loop pass, instead of one each. The answers of a connection's streams come from several
   * backend connections, read one after another in the same pass; Vert.x flushes after each, so
   * without this every response was its own record and write. Netty's handler defers a flush made
   * outside a read of this channel to a task that runs after the pass (and one made during a read
   * to its end), and flushes before a close. Measured with h2load -c16 -m4: about 1.4x the h2
   * requests per balancer core (bench/README.md). HTTP/1.1 has one request in flight per
   * connection, so nothing there to put together (tried: no gain beyond the noise).
   */
  static void consolidateFlushes(ChannelPipeline pipeline) {
    String tls = null;
    for (Map.Entry<String, ChannelHandler> handler : pipeline) {
      if (handler.getValue() instanceof SslHandler) {
        tls = handler.getKey();
      }
    }
    // Between TLS and the HTTP/2 codec: the codec's flushes reach it on their way to the socket.
    FlushConsolidationHandler consolidation =
        new FlushConsolidationHandler(FLUSHES_BEFORE_EXPLICIT, true);
    if (tls != null) {
      pipeline.addAfter(tls, FLUSH_CONSOLIDATION, consolidation);
    } else {
      pipeline.addFirst(FLUSH_CONSOLIDATION, consolidation);
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
