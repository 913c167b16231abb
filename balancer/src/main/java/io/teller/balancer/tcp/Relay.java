package io.teller.balancer.tcp;

import io.vertx.core.net.NetSocket;
import java.util.concurrent.atomic.LongAdder;

/**
 * Moves the bytes of one direction of a connection, from one socket to the other, with
 * back-pressure: when the destination's write queue is full the source is paused until it drains,
 * so a slow reader never makes the balancer buffer without bound. When the source sends its FIN,
 * the destination gets one after every byte before it, and the other direction goes on (both
 * sockets allow half-closure: see {@link NettyChannel}). When the source closes outright (a reset,
 * an idle timeout), the destination is closed once what was written to it is flushed.
 *
 * <p>Hand-written rather than {@code ReadStream.pipeTo} for the byte count and the half-close,
 * which a pipe does not give, and because a pipe also closes its source when the destination fails,
 * where here the other direction must decide for itself.
 */
final class Relay {

  private final NetSocket from;
  private final NetSocket to;
  private final LongAdder bytes;
  private final Runnable ended;

  /**
   * @param from the socket read from
   * @param to the socket written to
   * @param bytes counts the bytes moved
   * @param ended told once the source's FIN has been passed on
   */
  Relay(NetSocket from, NetSocket to, LongAdder bytes, Runnable ended) {
    this.from = from;
    this.to = to;
    this.bytes = bytes;
    this.ended = ended;
  }

  /** Starts moving bytes; the source must be paused until now, so that nothing is missed. */
  void start() {
    to.drainHandler(v -> from.resume());
    from.handler(
        buffer -> {
          if (NettyChannel.isEndOfInput(buffer)) {
            NettyChannel.shutdownOutput(to).onComplete(v -> ended.run());
            return;
          }
          bytes.add(buffer.length());
          to.write(buffer);
          if (to.writeQueueFull()) {
            from.pause();
          }
        });
    from.endHandler(v -> to.close());
    from.resume();
  }
}
