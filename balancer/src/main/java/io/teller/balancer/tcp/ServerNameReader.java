package io.teller.balancer.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.ssl.AbstractSniHandler;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.util.concurrent.Future;
import io.teller.balancer.resilience.Failure;

/**
 * Reads the server name of the TLS ClientHello a connection starts with, by Netty's own ClientHello
 * reading rather than a hand-written parser. Once it has the name (or knows there is none) it
 * leaves the pipeline, and the hello's bytes go on to the next handler; the outcome travels down
 * the pipeline as a {@link SniCompletionEvent} ({@link #outcome} reads it). A connection that sends
 * no whole ClientHello in time is closed by Netty.
 */
final class ServerNameReader extends AbstractSniHandler<String> {

  private final int maxHelloBytes;
  private final long timeoutMillis;

  /**
   * @param maxHelloBytes the most a ClientHello may take
   * @param timeoutMillis how long to wait for the whole ClientHello
   */
  ServerNameReader(int maxHelloBytes, long timeoutMillis) {
    super(maxHelloBytes, timeoutMillis);
    this.maxHelloBytes = maxHelloBytes;
    this.timeoutMillis = timeoutMillis;
  }

  /**
   * What a completion event of this reader says.
   *
   * @return the server name (lower case, or null for a ClientHello without one); failed with a
   *     {@link Failure.Kind#BAD_HELLO} failure for bytes that are no TLS ClientHello, a hello over
   *     the limit, or none in time
   */
  io.vertx.core.Future<String> outcome(SniCompletionEvent done) {
    if (done.isSuccess()) {
      return io.vertx.core.Future.succeededFuture(done.hostname());
    }
    Throwable cause = done.cause();
    String why;
    if (cause instanceof SslHandshakeTimeoutException) {
      why = "no TLS ClientHello within " + timeoutMillis + " ms";
    } else if (cause instanceof TooLongFrameException) {
      why = "ClientHello over " + maxHelloBytes + " bytes";
    } else {
      why = "not a TLS ClientHello";
    }
    return io.vertx.core.Future.failedFuture(Failure.badHello(why));
  }

  @Override
  protected Future<String> lookup(ChannelHandlerContext ctx, ByteBuf clientHello) throws Exception {
    if (clientHello == null) {
      // Netty reads "no ClientHello at all" (plain text, another record type) as "no name".
      return ctx.executor().newFailedFuture(new NotSslRecordException("not a TLS ClientHello"));
    }
    return super.lookup(ctx, clientHello);
  }

  @Override
  protected Future<String> lookup(ChannelHandlerContext ctx, String hostname) {
    return ctx.executor().newSucceededFuture(hostname);
  }

  @Override
  protected void onLookupComplete(ChannelHandlerContext ctx, String hostname, Future<String> done) {
    ctx.pipeline().remove(this);
  }
}
