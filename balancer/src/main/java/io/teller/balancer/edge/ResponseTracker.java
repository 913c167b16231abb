package io.teller.balancer.edge;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * Watches the responses Vert.x writes on an HTTP/1.x connection, before they are encoded, and tells
 * the connection's {@link Http1Guard} when each begins and ends and when the connection switches
 * protocols: the guard answers a refused request only after every earlier response has ended, and
 * stops reading HTTP once a {@code 101} went out.
 */
final class ResponseTracker extends ChannelOutboundHandlerAdapter {

  private final Http1Guard guard;
  private boolean informational;
  private boolean switched;

  ResponseTracker(Http1Guard guard) {
    this.guard = guard;
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
      throws Exception {
    // On its way first: an answer the guard writes when told of this response goes after it.
    ctx.write(msg, promise);
    if (!switched) {
      if (msg instanceof HttpResponse response) {
        int code = response.status().code();
        informational = code < 200;
        if (code == 101) {
          switched = true;
          guard.switchedProtocols();
        } else if (!informational) {
          guard.responseStarted();
        }
      }
      if (msg instanceof LastHttpContent && !informational && !switched) {
        guard.responseCompleted();
      }
    }
  }
}
