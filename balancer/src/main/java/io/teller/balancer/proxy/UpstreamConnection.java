package io.teller.balancer.proxy;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.MultiMap;
import java.io.IOException;

/**
 * One pooled HTTP/1.1 connection to an instance, as the last handler of its channel: it carries one
 * {@link UpstreamCall} at a time and hands the channel's events to it, on the context of its {@link
 * Upstream} (so that what the call completes runs as Vert.x callbacks do).
 */
final class UpstreamConnection extends ChannelInboundHandlerAdapter {

  final Upstream upstream;
  final Upstream.Pool pool;
  Channel channel;
  private UpstreamCall call;

  UpstreamConnection(Upstream upstream, Upstream.Pool pool) {
    this.upstream = upstream;
    this.pool = pool;
  }

  /** Whether a new request may go on this connection: open, and nothing unread or in flight. */
  boolean reusable() {
    return call == null && channel.isActive();
  }

  /**
   * Sends a request's head, with an empty body when {@code bodyless} (else the body follows through
   * the call's {@link UpstreamCall#requestBody()}). {@code headers} must be Vert.x's own ({@code
   * HttpHeaders.headers()}), which are Netty's too: they go out without a copy.
   */
  UpstreamCall send(
      io.vertx.core.http.HttpMethod method, String uri, MultiMap headers, boolean bodyless) {
    UpstreamCall sent = new UpstreamCall(this, bodyless);
    call = sent;
    HttpMethod nettyMethod = HttpMethod.valueOf(method.name());
    HttpHeaders nettyHeaders = (HttpHeaders) headers;
    HttpRequest head =
        bodyless
            ? new DefaultFullHttpRequest(
                HttpVersion.HTTP_1_1,
                nettyMethod,
                uri,
                Unpooled.EMPTY_BUFFER,
                nettyHeaders,
                EmptyHttpHeaders.INSTANCE)
            : new DefaultHttpRequest(HttpVersion.HTTP_1_1, nettyMethod, uri, nettyHeaders);
    channel.writeAndFlush(head, channel.voidPromise());
    return sent;
  }

  /** The call is over: the connection goes back to its pool when {@code reusable}. */
  void finished(UpstreamCall finished, boolean reusable) {
    if (call == finished) {
      call = null;
      // The call may have ended while its reader held the channel back; the next one reads.
      if (!channel.config().isAutoRead()) {
        channel.config().setAutoRead(true);
      }
      upstream.release(this, reusable);
    }
  }

  /** The call was stopped midway: nothing more of this connection can be trusted. */
  void abandoned(UpstreamCall abandoned) {
    if (call == abandoned) {
      call = null;
    }
    channel.close();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    UpstreamCall current = call;
    if (current == null) {
      // An answer nobody asked for (or the rest of one given up on): the connection is unusable.
      ReferenceCountUtil.release(msg);
      channel.close();
      return;
    }
    upstream.context().emit(msg, current::read);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    UpstreamCall current = call;
    if (current != null && current.holdsHead()) {
      upstream.context().emit(null, v -> current.readComplete());
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    UpstreamCall current = call;
    if (current != null && channel.isWritable()) {
      upstream.context().emit(null, v -> current.writable());
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event instanceof IdleStateEvent) {
      fail(new IOException("no data either way for " + pool.address + "'s idle timeout"));
      channel.close();
    } else {
      ctx.fireUserEventTriggered(event);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    fail(cause);
    channel.close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    fail(new IOException("the instance closed the connection"));
  }

  private void fail(Throwable cause) {
    UpstreamCall current = call;
    if (current != null) {
      call = null;
      upstream.context().emit(cause, current::lost);
    }
  }
}
