package io.teller.balancer.proxy;

import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpFrame;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.StreamPriority;
import io.vertx.core.http.impl.headers.HeadersMultiMap;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.net.NetSocket;
import io.vertx.core.streams.WriteStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.List;

/**
 * One request on an {@link UpstreamConnection} and its answer. The answer is offered to the stages
 * as what Vert.x's client would have given them, an {@link HttpClientResponse} read with
 * back-pressure (the channel stops reading while the client's side is full); the request's body,
 * when it has one, goes out through {@link #requestBody()}. What only Vert.x's client can do (a
 * tunnel, a whole body at once, trailers, HTTP/2 frames) is refused: the stages do not ask it of
 * this path.
 *
 * <p>The connection goes back to the pool once the answer ended and the whole request went out; a
 * call stopped midway ({@link #reset}), or failed, closes it. Event-loop confined.
 */
final class UpstreamCall implements HttpClientResponse {

  private final UpstreamConnection connection;
  private final Promise<HttpClientResponse> head;

  /** What came while the reader held the channel back; made the first time it does. */
  private ArrayDeque<Object> unread;

  private final Body body;
  private boolean requestSent;
  private int status;
  private String statusMessage;
  private MultiMap headers;
  private boolean keepAlive;
  private boolean paused;

  /** The channel stopped reading because something came while {@link #paused}. */
  private boolean heldBack;

  private boolean over;

  /** The answer's end came off the channel (it may still wait in {@link #unread}). */
  private boolean received;

  /** The head came and is offered at the end of this read (or with the first body part). */
  private boolean headHeld;

  /** The whole answer came in the read that brought its head: {@link #takeWhole} may have it. */
  private boolean whole;

  private Buffer wholeBody;

  /** The head is offered at the end of a read that brought none of the body. */
  private boolean bodyPending;

  private Handler<Buffer> dataHandler;
  private Handler<Void> endHandler;
  private Handler<Throwable> exceptionHandler;

  UpstreamCall(UpstreamConnection connection, boolean bodyless) {
    this.connection = connection;
    this.head = connection.upstream.context().promise();
    this.requestSent = bodyless;
    this.body = bodyless ? null : new Body();
  }

  /** The answer's status and headers, or why none came. */
  Future<HttpClientResponse> answer() {
    return head.future();
  }

  /** Where the request's body goes (a request sent bodyless has none). */
  WriteStream<Buffer> requestBody() {
    if (body == null) {
      throw new IllegalStateException("the request was sent without a body");
    }
    return body;
  }

  /** Stops the call, whatever it is waiting for: its connection is closed. */
  void reset() {
    if (!over) {
      failed(new IOException("reset by the balancer"));
      connection.abandoned(this);
    }
  }

  /** One decoded part of the answer. */
  void read(Object msg) {
    if (over) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (received) {
      // Past the answer's end, while it waits for its reader: bytes no request asked for, and a
      // connection that must carry no other request.
      keepAlive = false;
      ReferenceCountUtil.release(msg);
      return;
    }
    DecoderResult decoded = ((HttpObject) msg).decoderResult();
    if (decoded.isFailure()) {
      ReferenceCountUtil.release(msg);
      failed(new IOException("unreadable answer: " + decoded.cause().getMessage()));
      connection.abandoned(this);
      return;
    }
    if (msg instanceof HttpResponse response) {
      int code = response.status().code();
      if (code < 200) {
        // 100 Continue and other interim answers: the final one follows.
        ReferenceCountUtil.release(msg);
        return;
      }
      status = code;
      statusMessage = response.status().reasonPhrase();
      headers = (MultiMap) response.headers();
      keepAlive = HttpUtil.isKeepAlive(response);
      // Offered once this read is done: a small answer's end is usually in the same read, and then
      // the client gets it in one write rather than a head, a body and an end passed one by one.
      headHeld = true;
    }
    if (msg instanceof HttpContent content) {
      if (status == 0) {
        // The end of an interim answer (the decoder ends each with an empty last content).
        content.release();
        return;
      }
      boolean last = msg instanceof LastHttpContent;
      received |= last;
      Buffer data = null;
      if (content.content().isReadable()) {
        // A copy on the heap, which the client's connection may keep for as long as it likes.
        data = BufferInternal.safeBuffer(content.content());
      } else {
        content.release();
      }
      if (headHeld) {
        if (last) {
          whole = true;
          wholeBody = data;
          offerHead();
          if (!whole) {
            return; // taken whole
          }
          whole = false;
          wholeBody = null;
        } else {
          offerHead();
        }
      }
      if (paused || (unread != null && !unread.isEmpty())) {
        if (unread == null) {
          unread = new ArrayDeque<>(2);
        }
        holdBack();
        if (data != null) {
          unread.add(data);
        }
        if (last) {
          unread.add(LastHttpContent.EMPTY_LAST_CONTENT);
        }
        return;
      }
      deliver(data, last);
    }
  }

  /** Whether a head came in the channel's current read and waits for its end. */
  boolean holdsHead() {
    return headHeld;
  }

  /** The channel's read is done: a head that came in it is offered now, without any body yet. */
  void readComplete() {
    if (headHeld && !over) {
      bodyPending = true;
      offerHead();
      bodyPending = false;
    }
  }

  /**
   * Whether the head is being offered before any of the body came (a stream that starts later, a
   * long poll): the client should have the head now rather than with the first body part.
   */
  boolean bodyPending() {
    return bodyPending;
  }

  private void offerHead() {
    headHeld = false;
    head.complete(this);
  }

  /**
   * Whether the whole answer is here, to be {@link #takeWhole taken} at once instead of read as a
   * stream; true only while its head is being offered.
   */
  boolean whole() {
    return whole;
  }

  /**
   * The whole answer's body (null when it has none), taken at once: the call is over, and its
   * connection back in the pool when it may carry another request.
   */
  Buffer takeWhole() {
    if (!whole) {
      throw new IllegalStateException("the answer is not whole, or was taken");
    }
    whole = false;
    Buffer body = wholeBody;
    wholeBody = null;
    finish();
    return body;
  }

  private void deliver(Buffer data, boolean last) {
    if (data != null && dataHandler != null) {
      dataHandler.handle(data);
    }
    if (last && !over) {
      finish();
      if (endHandler != null) {
        endHandler.handle(null);
      }
    }
  }

  private void finish() {
    over = true;
    connection.finished(this, keepAlive && requestSent);
    if (!requestSent) {
      // Answered before the whole request went out (a 413, say): the rest of the body has
      // nowhere to go, and the pipe waiting for room to send it must learn so.
      body.failed(new IOException("the instance answered before the request's end"));
    }
  }

  /**
   * The connection failed or closed: so does the call, unless it already holds its whole answer
   * (epoll and io_uring read a peer's close even while the reader holds the channel back).
   */
  void lost(Throwable cause) {
    if (!received) {
      failed(cause);
    }
  }

  /** The call fails (the connection's failure, or the balancer's reset). */
  void failed(Throwable cause) {
    if (over) {
      return;
    }
    over = true;
    if (!head.tryFail(cause) && exceptionHandler != null) {
      exceptionHandler.handle(cause);
    }
    if (body != null) {
      body.failed(cause);
    }
  }

  /** The channel can take more of the request's body. */
  void writable() {
    if (body != null) {
      body.drained();
    }
  }

  // HttpClientResponse: the answer's head and its body as a stream.

  @Override
  public HttpClientResponse handler(Handler<Buffer> handler) {
    dataHandler = handler;
    return this;
  }

  @Override
  public HttpClientResponse endHandler(Handler<Void> handler) {
    endHandler = handler;
    return this;
  }

  @Override
  public HttpClientResponse exceptionHandler(Handler<Throwable> handler) {
    exceptionHandler = handler;
    return this;
  }

  /**
   * A pause only marks the call: the channel stops reading when something arrives while it is
   * paused. Every answer is read through a pipe, which pauses and resumes its source before the
   * first byte; stopping and restarting the channel's reads for that would cost two calls into the
   * kernel (epoll) or the ring per request.
   */
  @Override
  public HttpClientResponse pause() {
    paused = true;
    return this;
  }

  private void holdBack() {
    if (!heldBack) {
      heldBack = true;
      connection.channel.config().setAutoRead(false);
    }
  }

  @Override
  public HttpClientResponse resume() {
    if (!paused) {
      return this;
    }
    paused = false;
    while (!paused && unread != null && !unread.isEmpty()) {
      Object next = unread.poll();
      if (next instanceof Buffer data) {
        boolean last = unread.peek() == LastHttpContent.EMPTY_LAST_CONTENT;
        if (last) {
          unread.poll();
        }
        deliver(data, last);
      } else {
        deliver(null, true);
      }
    }
    if (!paused && !over && heldBack) {
      heldBack = false;
      connection.channel.config().setAutoRead(true);
    }
    return this;
  }

  @Override
  public HttpClientResponse fetch(long amount) {
    return amount > 0 ? resume() : this;
  }

  @Override
  public HttpVersion version() {
    return HttpVersion.HTTP_1_1;
  }

  @Override
  public int statusCode() {
    return status;
  }

  @Override
  public String statusMessage() {
    return statusMessage;
  }

  @Override
  public MultiMap headers() {
    return headers;
  }

  @Override
  public String getHeader(String name) {
    return headers.get(name);
  }

  @Override
  public String getHeader(CharSequence name) {
    return headers.get(name);
  }

  @Override
  public List<String> cookies() {
    return headers.getAll(io.vertx.core.http.HttpHeaders.SET_COOKIE);
  }

  @Override
  public MultiMap trailers() {
    return HeadersMultiMap.httpHeaders();
  }

  @Override
  public String getTrailer(String name) {
    return null;
  }

  @Override
  public NetSocket netSocket() {
    throw unsupported("a tunnel");
  }

  @Override
  public Future<Buffer> body() {
    throw unsupported("the whole body at once");
  }

  @Override
  public Future<Void> end() {
    throw unsupported("waiting for the end");
  }

  @Override
  public HttpClientRequest request() {
    throw unsupported("the Vert.x request");
  }

  @Override
  public HttpClientResponse customFrameHandler(Handler<HttpFrame> handler) {
    return this;
  }

  @Override
  public HttpClientResponse streamPriorityHandler(Handler<StreamPriority> handler) {
    return this;
  }

  private static UnsupportedOperationException unsupported(String what) {
    return new UnsupportedOperationException(what + " is not offered by Teller's upstream calls");
  }

  /** The request's body as a Vert.x write stream: the channel's writability is its queue. */
  private final class Body implements WriteStream<Buffer> {
    private Handler<Void> drainHandler;
    private Throwable failure;
    private boolean ended;

    @Override
    public Future<Void> write(Buffer data) {
      if (failure != null) {
        return Future.failedFuture(failure);
      }
      Promise<Void> written = connection.upstream.context().promise();
      connection
          .channel
          .writeAndFlush(new DefaultHttpContent(((BufferInternal) data).getByteBuf()))
          .addListener(done -> complete(written, done.cause()));
      return written.future();
    }

    @Override
    public Future<Void> end() {
      if (failure != null) {
        return Future.failedFuture(failure);
      }
      if (ended) {
        return Future.succeededFuture();
      }
      ended = true;
      // Handed to the channel, the end goes out before anything written after it.
      requestSent = true;
      Promise<Void> written = connection.upstream.context().promise();
      connection
          .channel
          .writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT)
          .addListener(done -> complete(written, done.cause()));
      return written.future();
    }

    private void complete(Promise<Void> written, Throwable cause) {
      connection
          .upstream
          .context()
          .emit(
              cause,
              c -> {
                if (c == null) {
                  written.tryComplete();
                } else {
                  written.tryFail(c);
                }
              });
    }

    @Override
    public boolean writeQueueFull() {
      // A closed channel is never writable: once failed, a pipe must write on, and learn of it.
      return failure == null && !connection.channel.isWritable();
    }

    @Override
    public WriteStream<Buffer> setWriteQueueMaxSize(int maxSize) {
      return this;
    }

    @Override
    public WriteStream<Buffer> drainHandler(Handler<Void> handler) {
      drainHandler = handler;
      return this;
    }

    @Override
    public WriteStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
      return this;
    }

    void drained() {
      Handler<Void> handler = drainHandler;
      if (handler != null && failure == null) {
        handler.handle(null);
      }
    }

    void failed(Throwable cause) {
      failure = cause;
      // A pipe waiting for room writes again, and learns of the failure.
      Handler<Void> handler = drainHandler;
      if (handler != null) {
        handler.handle(null);
      }
    }
  }
}
