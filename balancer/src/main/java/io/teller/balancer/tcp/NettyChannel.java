package io.teller.balancer.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.ssl.AbstractSniHandler;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.util.ReferenceCountUtil;
import io.teller.balancer.resilience.Failure;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

/**
 * The one place Teller reaches below Vert.x's public API, to the Netty channel under a {@link
 * NetSocket}, through {@code io.vertx.core.internal.net.NetSocketInternal} (which the style guide
 * otherwise forbids). Two things need it, and Vert.x 5.0 offers neither:
 *
 * <ul>
 *   <li><b>Half-close.</b> A Vert.x 5.0 socket reads a peer's FIN as the end of the connection and
 *       closes it, and {@code NetSocket.end()} is {@code close()}; neither {@code NetServerOptions}
 *       nor {@code NetClientOptions} has Netty's {@code ALLOW_HALF_CLOSURE} (checked up to 5.0.12).
 *       So a client that shuts down its sending side and waits for the answer lost the answer.
 *       Netty has it: with {@link ChannelOption#ALLOW_HALF_CLOSURE} a FIN shuts only the input, and
 *       {@link DuplexChannel#shutdownOutput()} sends a FIN while reading goes on.
 *   <li><b>The server name of a TLS ClientHello</b>, read by Netty's own {@link AbstractSniHandler}
 *       on the channel's pipeline rather than by a hand-written parser.
 * </ul>
 *
 * A peer's FIN must reach the relay after every byte before it, and Vert.x queues bytes while a
 * socket is paused (back-pressure) but delivers pipeline events at once; so the FIN is turned into
 * an in-band mark, an empty buffer, which a TCP read never yields otherwise ({@link
 * #isEndOfInput}).
 */
final class NettyChannel {

  /** Name of the handlers added, before Vert.x's own ("handler", the last). */
  private static final String HALF_CLOSE = "teller-half-close";

  private static final String SNI = "teller-sni";

  private NettyChannel() {}

  /**
   * Makes a FIN from {@code socket}'s peer shut down the input only: the socket stays open for
   * writing, and its data handler receives an empty buffer after the last byte. Call before the
   * socket's first read: in its connect handler, or at once when a connect succeeds.
   */
  static void allowHalfClosure(NetSocket socket) {
    ChannelHandlerContext vertx = ((NetSocketInternal) socket).channelHandlerContext();
    vertx.channel().config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    vertx.pipeline().addBefore(vertx.name(), HALF_CLOSE, EndOfInputMark.INSTANCE);
  }

  /** Whether {@code buffer}, read from a socket of {@link #allowHalfClosure}, is the peer's FIN. */
  static boolean isEndOfInput(Buffer buffer) {
    return buffer.length() == 0;
  }

  /**
   * Sends a FIN to {@code socket}'s peer once everything written before is flushed; reading goes
   * on. A socket that cannot half-close is closed instead.
   */
  static Future<Void> shutdownOutput(NetSocket socket) {
    // An empty write completes once every write before it is on the wire (Netty's outbound
    // buffer is in order), as Vert.x's own close does before closing.
    return socket
        .write(Buffer.buffer())
        .transform(
            written -> {
              Channel channel = ((NetSocketInternal) socket).channelHandlerContext().channel();
              if (written.succeeded() && channel instanceof DuplexChannel duplex) {
                Promise<Void> shut = Promise.promise();
                duplex
                    .shutdownOutput()
                    .addListener(
                        f -> {
                          if (f.isSuccess()) {
                            shut.complete();
                          } else {
                            shut.fail(f.cause());
                          }
                        });
                return shut.future();
              }
              return socket.close();
            });
  }

  /**
   * Reads the server name from the TLS ClientHello that {@code socket} starts with. The hello's
   * bytes stay in the socket, for whatever reads it next. Call before the socket's first read.
   *
   * @return the name (lower case), or null for a ClientHello without one; failed with a {@link
   *     Failure.Kind#BAD_HELLO} failure for bytes that are no TLS ClientHello, a hello over {@code
   *     maxHelloBytes}, or none within {@code timeoutMillis} (Netty then closes the socket)
   */
  static Future<String> serverName(NetSocket socket, int maxHelloBytes, long timeoutMillis) {
    NetSocketInternal internal = (NetSocketInternal) socket;
    Promise<String> name = Promise.promise();
    // Pipeline events come on the socket's Vert.x context.
    internal.eventHandler(
        event -> {
          if (event instanceof SniCompletionEvent done) {
            internal.eventHandler(null);
            if (done.isSuccess()) {
              name.tryComplete(done.hostname());
            } else {
              name.tryFail(Failure.badHello(why(done.cause(), maxHelloBytes, timeoutMillis)));
            }
          } else {
            ReferenceCountUtil.release(event);
          }
        });
    ChannelHandlerContext vertx = internal.channelHandlerContext();
    vertx
        .pipeline()
        .addBefore(vertx.name(), SNI, new ServerNameReader(maxHelloBytes, timeoutMillis));
    return name.future();
  }

  private static String why(Throwable cause, int maxHelloBytes, long timeoutMillis) {
    if (cause instanceof SslHandshakeTimeoutException) {
      return "no TLS ClientHello within " + timeoutMillis + " ms";
    }
    if (cause instanceof TooLongFrameException) {
      return "ClientHello over " + maxHelloBytes + " bytes";
    }
    return "not a TLS ClientHello";
  }

  /** Turns the input's shutdown (the peer's FIN) into an empty read, in order after the data. */
  @ChannelHandler.Sharable
  private static final class EndOfInputMark extends ChannelInboundHandlerAdapter {
    static final EndOfInputMark INSTANCE = new EndOfInputMark();

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
      if (event == ChannelInputShutdownEvent.INSTANCE) {
        ctx.fireChannelRead(Unpooled.EMPTY_BUFFER);
        ctx.fireChannelReadComplete();
      } else {
        ctx.fireUserEventTriggered(event);
      }
    }
  }

  /**
   * Netty's ClientHello reading with a name lookup that just returns the name; once it has it (or
   * knows there is none) it leaves the pipeline, and the hello's bytes go on to Vert.x.
   */
  private static final class ServerNameReader extends AbstractSniHandler<String> {

    ServerNameReader(int maxHelloBytes, long timeoutMillis) {
      super(maxHelloBytes, timeoutMillis);
    }

    @Override
    protected io.netty.util.concurrent.Future<String> lookup(
        ChannelHandlerContext ctx, ByteBuf clientHello) throws Exception {
      if (clientHello == null) {
        // Netty reads "no ClientHello at all" (plain text, another record type) as "no name".
        return ctx.executor().newFailedFuture(new NotSslRecordException("not a TLS ClientHello"));
      }
      return super.lookup(ctx, clientHello);
    }

    @Override
    protected io.netty.util.concurrent.Future<String> lookup(
        ChannelHandlerContext ctx, String hostname) {
      return ctx.executor().newSucceededFuture(hostname);
    }

    @Override
    protected void onLookupComplete(
        ChannelHandlerContext ctx, String hostname, io.netty.util.concurrent.Future<String> done) {
      ctx.pipeline().remove(this);
    }
  }
}
