package io.teller.e2e;

import io.teller.backend.DownloadPattern;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import java.security.MessageDigest;

/**
 * A request body of any length generated as it is read, never held whole: the bytes of a {@link
 * DownloadPattern}, hashed into a digest as they are handed out. It honours back-pressure: it emits
 * only while there is demand ({@link #pause()}, {@link #fetch(long)}), as a {@code pipeTo} asks.
 * All calls must come from {@code context}.
 */
final class PatternBody implements ReadStream<Buffer> {

  /** Chunks emitted per event-loop turn, so that the connection gets its turn to write. */
  private static final int BATCH = 16;

  private final Context context;
  private final DownloadPattern pattern;
  private final long length;
  private final MessageDigest digest;
  private long position;
  private long demand = Long.MAX_VALUE;
  private boolean scheduled;
  private boolean ended;
  private Handler<Buffer> handler;
  private Handler<Void> endHandler;

  PatternBody(Context context, DownloadPattern pattern, long length, MessageDigest digest) {
    this.context = context;
    this.pattern = pattern;
    this.length = length;
    this.digest = digest;
  }

  /** Bytes handed out so far. */
  long position() {
    return position;
  }

  @Override
  public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
    // Generating cannot fail.
    return this;
  }

  @Override
  public ReadStream<Buffer> handler(Handler<Buffer> handler) {
    this.handler = handler;
    schedule();
    return this;
  }

  @Override
  public ReadStream<Buffer> pause() {
    demand = 0;
    return this;
  }

  @Override
  public ReadStream<Buffer> resume() {
    return fetch(Long.MAX_VALUE);
  }

  @Override
  public ReadStream<Buffer> fetch(long amount) {
    demand = Long.MAX_VALUE - demand <= amount ? Long.MAX_VALUE : demand + amount;
    schedule();
    return this;
  }

  @Override
  public ReadStream<Buffer> endHandler(Handler<Void> endHandler) {
    this.endHandler = endHandler;
    return this;
  }

  private void schedule() {
    if (!scheduled && handler != null && demand > 0 && !ended) {
      scheduled = true;
      context.runOnContext(v -> emit());
    }
  }

  private void emit() {
    scheduled = false;
    for (int i = 0; i < BATCH && demand > 0 && position < length && handler != null; i++) {
      int size = (int) Math.min(DownloadPattern.MAX_CHUNK, length - position);
      pattern.update(digest, position, size);
      Buffer chunk = pattern.chunk(position, size);
      position += size;
      if (demand != Long.MAX_VALUE) {
        demand--;
      }
      // May pause us (the pipe's write queue is full): the loop re-checks the demand.
      handler.handle(chunk);
    }
    if (position == length && !ended) {
      ended = true;
      if (endHandler != null) {
        endHandler.handle(null);
      }
      return;
    }
    schedule();
  }
}
