package io.teller.e2e;

import io.teller.backend.DownloadPattern;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.WriteStream;
import java.security.MessageDigest;

/**
 * Where a downloaded body is piped: counts and hashes each buffer and keeps none. Hashing keeps up
 * with the network, so its queue is never full; a pipe into it still runs with back-pressure.
 */
final class HashingSink implements WriteStream<Buffer> {

  private final MessageDigest digest = DownloadPattern.newSha256();
  private long bytes;
  private boolean ended;

  /** Bytes written so far. */
  synchronized long bytes() {
    return bytes;
  }

  /** Whether the stream ended (the whole body arrived). */
  synchronized boolean ended() {
    return ended;
  }

  /** The hex SHA-256 of everything written; call once, after the end. */
  synchronized String sha256() {
    return DownloadPattern.hex(digest);
  }

  @Override
  public WriteStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
    return this;
  }

  @Override
  public synchronized Future<Void> write(Buffer data) {
    bytes += data.length();
    digest.update(data.getBytes());
    return Future.succeededFuture();
  }

  @Override
  public synchronized Future<Void> end() {
    ended = true;
    return Future.succeededFuture();
  }

  @Override
  public WriteStream<Buffer> setWriteQueueMaxSize(int maxSize) {
    return this;
  }

  @Override
  public boolean writeQueueFull() {
    return false;
  }

  @Override
  public WriteStream<Buffer> drainHandler(Handler<Void> handler) {
    return this;
  }
}
