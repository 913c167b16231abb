package io.teller.balancer.tcp;

import io.vertx.core.net.NetSocket;
import java.util.concurrent.atomic.LongAdder;

/**
 * Moves the bytes of one direction of a connection, from one socket to the other, with
 * back-pressure: when the destination's write queue is full the source is paused until it drains,
 * so a slow reader never makes the balancer buffer without bound. When the source ends, the
 * destination is ended once what was written to it is flushed.
 *
 * <p>Hand-written rather than {@code ReadStream.pipeTo} for the byte count, which a pipe does not
 * give, and because a pipe also closes its source when the destination fails, where here the other
 * direction must decide for itself.
 */
final class Relay {

  private final NetSocket from;
  private final NetSocket to;
  private final LongAdder bytes;

  /**
   * @param from the socket read from
   * @param to the socket written to
   * @param bytes counts the bytes moved
   */
  Relay(NetSocket from, NetSocket to, LongAdder bytes) {
    this.from = from;
    this.to = to;
    this.bytes = bytes;
  }

  /** Starts moving bytes; the source must be paused until now, so that nothing is missed. */
  void start() {
    to.drainHandler(v -> from.resume());
    from.handler(
        buffer -> {
          bytes.add(buffer.length());
          to.write(buffer);
          if (to.writeQueueFull()) {
            from.pause();
          }
        });
    // Vert.x 5 has no half-close: ending a socket closes it, after a flush (see TcpConnection).
    from.endHandler(v -> to.end());
    from.resume();
  }
}
