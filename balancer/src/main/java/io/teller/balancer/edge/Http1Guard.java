package io.teller.balancer.edge;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Reads an HTTP/1.x client's bytes before Vert.x's decoder does, and lets through only requests
 * whose framing is unambiguous (RFC 9112 §2-7, RFC 9110 §5, §7.2): nothing that one parser could
 * read one way and another parser another way ever reaches an instance.
 *
 * <p>A head is held until it is complete, checked as a whole, and then passed on, unchanged or
 * normalised: an absolute-form target becomes origin-form; {@code Content-Length} beside {@code
 * Transfer-Encoding: chunked} is dropped, and several equal {@code Content-Length} values become
 * one, and such a request gets {@code Connection: close} so that nothing the client sent after it
 * is read (RFC 9112 §6.1, AWS ALB's "defensive" desync mitigation). Bodies pass through as they
 * arrive; their framing (length, chunk sizes and extensions, the CRLF after each chunk, trailer
 * fields) is followed byte by byte, so that the next head is found where every conforming parser
 * finds it.
 *
 * <p>Anything else is refused: the guard stops reading, answers the status of the {@link Rejection}
 * with a one-line reason once every earlier response on the connection is complete, and closes the
 * connection. Why hand-written and not Netty's decoder options: Netty accepts folded field lines,
 * several {@code Host} fields, absolute-form targets naming another host and more than a hundred
 * fields, and reports a bad chunk by closing without an answer; HAProxy and nginx each accept some
 * of these too (see the README's table).
 *
 * <p>Confined to its channel's event loop. One per connection; {@link ResponseTracker} tells it
 * which responses have started and ended, and when the connection switched protocols.
 */
public final class Http1Guard extends ChannelInboundHandlerAdapter {

  /** Told of every refusal, to count it and log it. */
  @FunctionalInterface
  public interface Rejections {
    /**
     * @param client the client's address (an IP address as text), or null if unknown
     */
    void rejected(Rejection rejection, String detail, String client);

    /** The IP address of a channel's peer as text, for {@link #rejected}. */
    static String address(SocketAddress remote) {
      return remote instanceof java.net.InetSocketAddress inet && inet.getAddress() != null
          ? inet.getAddress().getHostAddress()
          : remote == null ? null : remote.toString();
    }
  }

  private enum State {
    HEAD,
    BODY_LENGTH,
    CHUNK_SIZE,
    CHUNK_DATA,
    CHUNK_CRLF,
    TRAILER,
    TUNNEL,
    REFUSED
  }

  private static final int MAX_CHUNK_LINE = 4096;
  private static final byte CR = '\r';
  private static final byte LF = '\n';
  private static final byte[] CONNECTION_CLOSE =
      "connection: close\r\n".getBytes(StandardCharsets.US_ASCII);

  private final EdgeLimits limits;
  private final Rejections rejections;

  private ChannelHandlerContext ctx;
  private ByteBuf pending = Unpooled.EMPTY_BUFFER;
  private State state = State.HEAD;
  private long remaining;
  private int trailerBytes;
  private int bodyFrom;
  private int scanOffset;
  private int lineStartOffset;
  private int requestLineEndOffset = -1;
  private ScheduledFuture<?> headTimer;
  private boolean closeAfterResponse;

  /** What this read adds to the request in progress, passed on when it ends or the read does. */
  private final List<ByteBuf> batch = new ArrayList<>(4);

  private boolean headInBatch;

  private long dispatched;
  private long started;
  private long completed;
  private Rejection deferred;
  private String deferredDetail;

  public Http1Guard(EdgeLimits limits, Rejections rejections) {
    this.limits = limits;
    this.rejections = rejections;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cancelHeadTimer();
    dropBatch();
    pending.release();
    pending = Unpooled.EMPTY_BUFFER;
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    cancelHeadTimer();
    super.channelInactive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf in)) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (state == State.TUNNEL) {
      ctx.fireChannelRead(in);
      return;
    }
    if (state == State.REFUSED) {
      in.release();
      return;
    }
    if (pending.isReadable()) {
      ByteBuf joined = ctx.alloc().buffer(pending.readableBytes() + in.readableBytes());
      joined.writeBytes(pending).writeBytes(in);
      pending.release();
      in.release();
      pending = joined;
    } else {
      pending.release();
      pending = in;
    }
    process();
  }

  /** Handles what {@link #pending} holds, passing on whatever is complete and checked. */
  private void process() {
    bodyFrom = pending.readerIndex();
    loop:
    while (true) {
      switch (state) {
        case HEAD -> {
          flushBody();
          if (!head()) {
            break loop;
          }
          bodyFrom = pending.readerIndex();
        }
        case BODY_LENGTH, CHUNK_DATA -> {
          if (!pending.isReadable()) {
            break loop;
          }
          int n = (int) Math.min(remaining, pending.readableBytes());
          pending.skipBytes(n);
          remaining -= n;
          if (remaining == 0) {
            if (state == State.CHUNK_DATA) {
              state = State.CHUNK_CRLF;
            } else {
              endOfRequest();
            }
          }
        }
        case CHUNK_SIZE -> {
          if (!chunkSize()) {
            break loop;
          }
        }
        case CHUNK_CRLF -> {
          if (pending.readableBytes() < 2) {
            break loop;
          }
          if (pending.getByte(pending.readerIndex()) != CR
              || pending.getByte(pending.readerIndex() + 1) != LF) {
            refuse(Rejection.CHUNK_FRAMING, "chunk data not followed by CRLF");
            break loop;
          }
          pending.skipBytes(2);
          state = State.CHUNK_SIZE;
        }
        case TRAILER -> {
          if (!trailerLine()) {
            break loop;
          }
        }
        case TUNNEL -> {
          flushBody();
          flushBatch();
          passPending();
          return;
        }
        case REFUSED -> {
          return;
        }
      }
    }
    if (state == State.REFUSED) {
      return;
    }
    flushBody();
    flushBatch();
    if (state == State.HEAD && pending.isReadable()) {
      armHeadTimer();
    }
  }

  /** A request (head and body) has been passed on in full. */
  private void endOfRequest() {
    state = State.HEAD;
    flushBody();
    flushBatch();
    if (closeAfterResponse) {
      // Nothing after this request is read: the connection closes after its response, and
      // the bytes that follow (where a smuggled request would hide) are never decoded.
      flushBody();
      state = State.REFUSED;
      pending.release();
      pending = Unpooled.EMPTY_BUFFER;
    }
  }

  /** Adds the checked body bytes between {@link #bodyFrom} and the reader index to the batch. */
  private void flushBody() {
    int length = pending.readerIndex() - bodyFrom;
    if (length > 0) {
      batch.add(pending.retainedSlice(bodyFrom, length));
    }
    bodyFrom = pending.readerIndex();
    if (!pending.isReadable() && pending != Unpooled.EMPTY_BUFFER) {
      pending.release();
      pending = Unpooled.EMPTY_BUFFER;
      bodyFrom = 0;
    }
  }

  /** Passes on what this read added to the request in progress. */
  private void flushBatch() {
    if (headInBatch) {
      dispatched++;
      headInBatch = false;
    }
    for (ByteBuf buf : batch) {
      ctx.fireChannelRead(buf);
    }
    batch.clear();
  }

  private void dropBatch() {
    batch.forEach(ByteBuf::release);
    batch.clear();
  }

  private void passPending() {
    if (pending.isReadable()) {
      ByteBuf rest = pending;
      pending = Unpooled.EMPTY_BUFFER;
      bodyFrom = 0;
      ctx.fireChannelRead(rest);
    }
  }

  // --- the head ---

  private void resetHeadScan() {
    scanOffset = 0;
    lineStartOffset = 0;
    requestLineEndOffset = -1;
  }

  /**
   * Checks and passes on one complete head; false when it is not complete yet or was refused. The
   * scan goes on where the previous read left it, so a head that trickles in costs no more than one
   * that arrives at once.
   */
  private boolean head() {
    // Empty lines before a request line are ignored (RFC 9112 §2.2), e.g. after a POST's body.
    while (pending.readableBytes() >= 2
        && pending.getByte(pending.readerIndex()) == CR
        && pending.getByte(pending.readerIndex() + 1) == LF) {
      pending.skipBytes(2);
      resetHeadScan();
    }
    if (!pending.isReadable()) {
      return false;
    }
    int start = pending.readerIndex();
    int end = pending.writerIndex();
    while (true) {
      int lf = pending.indexOf(start + scanOffset, end, LF);
      if (lf < 0) {
        scanOffset = end - start;
        overLimit(start, end);
        return false;
      }
      if (lf == start || pending.getByte(lf - 1) != CR) {
        refuse(Rejection.LINE_ENDING, "a line ends in a bare LF");
        return false;
      }
      if (requestLineEndOffset < 0) {
        requestLineEndOffset = lf - 1 - start;
        if (requestLineEndOffset > limits.requestLineBytes()) {
          refuse(
              Rejection.URI_TOO_LONG,
              "request line longer than " + limits.requestLineBytes() + " bytes");
          return false;
        }
      } else if (lf - 1 == start + lineStartOffset) {
        int requestLineEnd = start + requestLineEndOffset;
        resetHeadScan();
        cancelHeadTimer();
        return complete(start, requestLineEnd, lf + 1);
      } else if (lf + 1 - (start + requestLineEndOffset + 2) > limits.headerBytes()) {
        refuse(
            Rejection.HEADERS_TOO_LARGE,
            "header fields larger than " + limits.headerBytes() + " bytes");
        return false;
      }
      lineStartOffset = lf + 1 - start;
      scanOffset = lineStartOffset;
    }
  }

  /** Refuses an incomplete head that is already too large to be accepted. */
  private void overLimit(int start, int end) {
    if (requestLineEndOffset < 0) {
      if (end - start > limits.requestLineBytes() + 1) {
        refuse(
            Rejection.URI_TOO_LONG,
            "request line longer than " + limits.requestLineBytes() + " bytes");
      }
    } else if (end - (start + requestLineEndOffset + 2) > limits.headerBytes()) {
      refuse(
          Rejection.HEADERS_TOO_LARGE,
          "header fields larger than " + limits.headerBytes() + " bytes");
    }
  }

  /**
   * The head from {@code start} to {@code headEnd} (exclusive) is complete: check and pass it on.
   */
  private boolean complete(int start, int requestLineEnd, int headEnd) {
    RequestLine line = requestLine(start, requestLineEnd);
    if (line == null) {
      return false;
    }
    List<int[]> fields = new ArrayList<>();
    int hosts = 0;
    String host = null;
    List<String> contentLengths = new ArrayList<>();
    List<String> transferCodings = new ArrayList<>();
    int contentLengthLines = 0;
    for (int lineStart = requestLineEnd + 2; lineStart < headEnd - 2; ) {
      int lf = pending.indexOf(lineStart, headEnd, LF);
      int lineEnd = lf - 1;
      byte first = pending.getByte(lineStart);
      if (first == ' ' || first == '\t') {
        refuse(Rejection.FOLDED_FIELD, "a field line is folded (obs-fold)");
        return false;
      }
      int colon = -1;
      for (int i = lineStart; i < lineEnd; i++) {
        byte b = pending.getByte(i);
        if (b == ':') {
          colon = i;
          break;
        }
        if (!Chars.isTchar(b)) {
          refuse(Rejection.FIELD_NAME, "invalid character in a field name");
          return false;
        }
      }
      if (colon <= lineStart) {
        refuse(
            Rejection.FIELD_NAME,
            colon < 0 ? "a field line without a colon" : "an empty field name");
        return false;
      }
      int valueStart = colon + 1;
      int valueEnd = lineEnd;
      while (valueStart < valueEnd && Chars.isOws(pending.getByte(valueStart))) {
        valueStart++;
      }
      while (valueEnd > valueStart && Chars.isOws(pending.getByte(valueEnd - 1))) {
        valueEnd--;
      }
      for (int i = valueStart; i < valueEnd; i++) {
        if (!Chars.isFieldValueByte(pending.getByte(i))) {
          refuse(Rejection.FIELD_VALUE, "a control character in a field value");
          return false;
        }
      }
      if (fields.size() == limits.headerFields()) {
        refuse(Rejection.TOO_MANY_FIELDS, "more than " + limits.headerFields() + " header fields");
        return false;
      }
      int nameLength = colon - lineStart;
      int kind = Chars.fieldKind(pending, lineStart, nameLength);
      fields.add(new int[] {lineStart, lf + 1, kind});
      String value =
          valueStart == valueEnd
              ? ""
              : pending.toString(valueStart, valueEnd - valueStart, StandardCharsets.ISO_8859_1);
      switch (kind) {
        case Chars.HOST -> {
          hosts++;
          host = value;
        }
        case Chars.CONTENT_LENGTH -> {
          contentLengthLines++;
          for (String part : value.split(",", -1)) {
            contentLengths.add(part.strip());
          }
        }
        case Chars.TRANSFER_ENCODING -> {
          for (String part : value.split(",", -1)) {
            transferCodings.add(part.strip().toLowerCase(Locale.ROOT));
          }
        }
        default -> {}
      }
      lineStart = lf + 1;
    }

    // Host (RFC 9112 §3.2): exactly one on HTTP/1.1, at most one on HTTP/1.0.
    if (hosts > 1) {
      refuse(Rejection.HOST, "more than one Host field");
      return false;
    }
    if (hosts == 0 && line.http11) {
      refuse(Rejection.HOST, "no Host field in an HTTP/1.1 request");
      return false;
    }
    if (host != null && !Chars.isHost(host)) {
      refuse(Rejection.HOST, "Host is not a host name or address");
      return false;
    }
    String target = line.target;
    if (line.absoluteAuthority != null) {
      if (host == null || !line.absoluteAuthority.equalsIgnoreCase(host)) {
        refuse(Rejection.REQUEST_TARGET, "the absolute-form target names another host than Host");
        return false;
      }
      target = line.originForm;
    }

    // Message body length (RFC 9112 §6.1-6.3).
    boolean dropContentLength = false;
    boolean normaliseContentLength = false;
    long length = 0;
    boolean chunked = false;
    if (!transferCodings.isEmpty()) {
      if (!line.http11) {
        refuse(Rejection.TRANSFER_ENCODING, "Transfer-Encoding in an HTTP/1.0 request");
        return false;
      }
      if (transferCodings.size() != 1 || !transferCodings.get(0).equals("chunked")) {
        refuse(Rejection.TRANSFER_ENCODING, "Transfer-Encoding other than exactly \"chunked\"");
        return false;
      }
      chunked = true;
      dropContentLength = contentLengthLines > 0;
    } else if (!contentLengths.isEmpty()) {
      String first = contentLengths.get(0);
      for (String value : contentLengths) {
        if (!Chars.isDigits(value, 18)) {
          refuse(Rejection.CONTENT_LENGTH, "Content-Length is not a number of at most 18 digits");
          return false;
        }
        if (!value.equals(first)) {
          refuse(Rejection.CONTENT_LENGTH, "Content-Length values disagree");
          return false;
        }
      }
      length = Long.parseLong(first);
      normaliseContentLength = contentLengths.size() > 1;
    }

    boolean closeAfter = dropContentLength || normaliseContentLength;
    boolean rewrite = closeAfter || line.absoluteAuthority != null;
    ByteBuf head;
    if (rewrite) {
      head = ctx.alloc().buffer(headEnd - start + 64);
      head.writeCharSequence(line.method, StandardCharsets.US_ASCII);
      head.writeByte(' ');
      head.writeCharSequence(target, StandardCharsets.ISO_8859_1);
      head.writeByte(' ');
      head.writeCharSequence(line.http11 ? "HTTP/1.1" : "HTTP/1.0", StandardCharsets.US_ASCII);
      head.writeByte(CR).writeByte(LF);
      boolean lengthWritten = false;
      for (int[] field : fields) {
        if (field[2] == Chars.CONTENT_LENGTH) {
          if (dropContentLength || lengthWritten) {
            continue;
          }
          if (normaliseContentLength) {
            head.writeCharSequence("content-length: " + length + "\r\n", StandardCharsets.US_ASCII);
            lengthWritten = true;
            continue;
          }
        }
        head.writeBytes(pending, field[0], field[1] - field[0]);
      }
      if (closeAfter) {
        head.writeBytes(CONNECTION_CLOSE);
      }
      head.writeByte(CR).writeByte(LF);
    } else {
      head = pending.retainedSlice(start, headEnd - start);
    }
    pending.readerIndex(headEnd);
    bodyFrom = headEnd;
    closeAfterResponse = closeAfterResponse || closeAfter;
    batch.add(head);
    headInBatch = true;
    if (chunked) {
      state = State.CHUNK_SIZE;
    } else if (length > 0) {
      state = State.BODY_LENGTH;
      remaining = length;
    } else {
      state = State.HEAD;
    }
    bodyFrom = pending.readerIndex();
    if (state == State.HEAD) {
      endOfRequest();
    }
    return true;
  }

  private record RequestLine(
      String method, String target, boolean http11, String absoluteAuthority, String originForm) {}

  private RequestLine requestLine(int start, int end) {
    int firstSpace = -1;
    for (int i = start; i < end; i++) {
      byte b = pending.getByte(i);
      if (b == ' ') {
        firstSpace = i;
        break;
      }
      if (!Chars.isTchar(b)) {
        refuse(Rejection.REQUEST_LINE, "invalid character in the method");
        return null;
      }
    }
    if (firstSpace <= start) {
      refuse(Rejection.REQUEST_LINE, "no method");
      return null;
    }
    int secondSpace = -1;
    for (int i = firstSpace + 1; i < end; i++) {
      byte b = pending.getByte(i);
      if (b == ' ') {
        secondSpace = i;
        break;
      }
      if (b <= 0x20 || b == 0x7f) {
        refuse(
            Rejection.REQUEST_TARGET,
            "a control character or non-ASCII byte in the request target");
        return null;
      }
    }
    if (secondSpace <= firstSpace + 1) {
      refuse(Rejection.REQUEST_LINE, "the request line is not METHOD SP TARGET SP VERSION");
      return null;
    }
    String method = pending.toString(start, firstSpace - start, StandardCharsets.US_ASCII);
    String target =
        pending.toString(firstSpace + 1, secondSpace - firstSpace - 1, StandardCharsets.ISO_8859_1);
    String version =
        pending.toString(secondSpace + 1, end - secondSpace - 1, StandardCharsets.ISO_8859_1);
    boolean http11;
    if (version.equals("HTTP/1.1")) {
      http11 = true;
    } else if (version.equals("HTTP/1.0")) {
      http11 = false;
    } else if (version.matches("HTTP/[0-9]\\.[0-9]")) {
      refuse(Rejection.HTTP_VERSION, "HTTP version " + version + " is not served here");
      return null;
    } else {
      refuse(Rejection.REQUEST_LINE, "the request line is not METHOD SP TARGET SP VERSION");
      return null;
    }
    if (method.equals("CONNECT")) {
      refuse(Rejection.METHOD, "CONNECT is not served (a reverse proxy, not a forward proxy)");
      return null;
    }
    if (target.indexOf('#') >= 0) {
      refuse(Rejection.REQUEST_TARGET, "a fragment (#) in the request target");
      return null;
    }
    if (target.charAt(0) == '/') {
      return new RequestLine(method, target, http11, null, null);
    }
    if (target.equals("*")) {
      if (!method.equals("OPTIONS")) {
        refuse(Rejection.REQUEST_TARGET, "asterisk-form is for OPTIONS only");
        return null;
      }
      return new RequestLine(method, target, http11, null, null);
    }
    String lower = target.toLowerCase(Locale.ROOT);
    int schemeEnd = lower.startsWith("http://") ? 7 : lower.startsWith("https://") ? 8 : -1;
    if (schemeEnd < 0) {
      refuse(Rejection.REQUEST_TARGET, "the request target is not origin-form or absolute-form");
      return null;
    }
    int authorityEnd = target.length();
    for (int i = schemeEnd; i < target.length(); i++) {
      char c = target.charAt(i);
      if (c == '/' || c == '?') {
        authorityEnd = i;
        break;
      }
    }
    String authority = target.substring(schemeEnd, authorityEnd);
    if (authority.isEmpty() || authority.indexOf('@') >= 0 || !Chars.isHost(authority)) {
      refuse(Rejection.REQUEST_TARGET, "the absolute-form target's authority is not a host");
      return null;
    }
    String rest = target.substring(authorityEnd);
    String origin = rest.isEmpty() ? "/" : rest.charAt(0) == '?' ? "/" + rest : rest;
    return new RequestLine(method, target, http11, authority, origin);
  }

  // --- chunked bodies (RFC 9112 §7.1) ---

  private boolean chunkSize() {
    int start = pending.readerIndex();
    int lf = pending.indexOf(start, pending.writerIndex(), LF);
    if (lf < 0) {
      if (pending.readableBytes() > MAX_CHUNK_LINE) {
        refuse(
            Rejection.CHUNK_FRAMING, "a chunk-size line longer than " + MAX_CHUNK_LINE + " bytes");
      }
      return false;
    }
    if (lf == start || pending.getByte(lf - 1) != CR) {
      refuse(Rejection.CHUNK_FRAMING, "a chunk-size line ends in a bare LF");
      return false;
    }
    int end = lf - 1;
    int i = start;
    long size = 0;
    int digits = 0;
    while (i < end) {
      int d = Character.digit(pending.getByte(i), 16);
      if (d < 0) {
        break;
      }
      if (++digits > 15) {
        refuse(Rejection.CHUNK_FRAMING, "a chunk size of more than 15 hex digits");
        return false;
      }
      size = size * 16 + d;
      i++;
    }
    if (digits == 0) {
      refuse(Rejection.CHUNK_FRAMING, "a chunk-size line without a size");
      return false;
    }
    if (i < end && !Chars.isChunkExtension(pending, i, end)) {
      refuse(Rejection.CHUNK_FRAMING, "a malformed chunk extension");
      return false;
    }
    pending.readerIndex(lf + 1);
    if (size == 0) {
      state = State.TRAILER;
      trailerBytes = 0;
    } else {
      state = State.CHUNK_DATA;
      remaining = size;
    }
    return true;
  }

  private boolean trailerLine() {
    int start = pending.readerIndex();
    int lf = pending.indexOf(start, pending.writerIndex(), LF);
    if (lf < 0) {
      if (trailerBytes + pending.readableBytes() > limits.headerBytes()) {
        refuse(
            Rejection.HEADERS_TOO_LARGE,
            "trailer fields larger than " + limits.headerBytes() + " bytes");
      }
      return false;
    }
    if (lf == start || pending.getByte(lf - 1) != CR) {
      refuse(Rejection.CHUNK_FRAMING, "a trailer line ends in a bare LF");
      return false;
    }
    trailerBytes += lf + 1 - start;
    if (trailerBytes > limits.headerBytes()) {
      refuse(
          Rejection.HEADERS_TOO_LARGE,
          "trailer fields larger than " + limits.headerBytes() + " bytes");
      return false;
    }
    int end = lf - 1;
    if (end > start && !Chars.isFieldLine(pending, start, end)) {
      refuse(Rejection.CHUNK_FRAMING, "a malformed trailer field");
      return false;
    }
    pending.readerIndex(lf + 1);
    if (end == start) {
      endOfRequest();
    }
    return true;
  }

  // --- refusing ---

  /**
   * Refuses the request in progress: nothing of it that came in this read is passed on, nothing
   * after it is read, and the client is answered once every earlier response has ended.
   */
  private void refuse(Rejection rejection, String detail) {
    // The request in progress was passed on already (its head came in an earlier read) or not.
    boolean headPassedOn = state != State.HEAD && !headInBatch;
    dropBatch();
    headInBatch = false;
    state = State.REFUSED;
    cancelHeadTimer();
    pending.release();
    pending = Unpooled.EMPTY_BUFFER;
    bodyFrom = 0;
    rejections.rejected(rejection, detail, Rejections.address(ctx.channel().remoteAddress()));
    if (headPassedOn) {
      // Answer only if its response has not begun, then close.
      if (started < dispatched && completed == dispatched - 1) {
        answer(rejection, detail);
      } else {
        ctx.close();
      }
    } else if (completed == dispatched) {
      answer(rejection, detail);
    } else {
      deferred = rejection;
      deferredDetail = detail;
    }
  }

  private void answer(Rejection rejection, String detail) {
    byte[] body = (detail + "\n").getBytes(StandardCharsets.UTF_8);
    String head =
        "HTTP/1.1 "
            + rejection.status()
            + " "
            + reasonPhrase(rejection.status())
            + "\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: "
            + body.length
            + "\r\nconnection: close\r\n\r\n";
    ByteBuf out = ctx.alloc().buffer(head.length() + body.length);
    out.writeCharSequence(head, StandardCharsets.US_ASCII);
    out.writeBytes(body);
    ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
  }

  private static String reasonPhrase(int status) {
    return switch (status) {
      case 400 -> "Bad Request";
      case 405 -> "Method Not Allowed";
      case 408 -> "Request Timeout";
      case 414 -> "URI Too Long";
      case 431 -> "Request Header Fields Too Large";
      case 503 -> "Service Unavailable";
      case 505 -> "HTTP Version Not Supported";
      default -> "Error";
    };
  }

  // --- the head timeout ---

  private void armHeadTimer() {
    if (headTimer == null && pending.isReadable() && state == State.HEAD) {
      headTimer =
          ctx.executor()
              .schedule(
                  () -> {
                    headTimer = null;
                    if (state == State.HEAD && pending.isReadable()) {
                      refuse(
                          Rejection.HEAD_TIMEOUT,
                          "the request head did not arrive within "
                              + limits.headTimeoutMillis()
                              + " ms");
                    }
                  },
                  limits.headTimeoutMillis(),
                  TimeUnit.MILLISECONDS);
    }
  }

  private void cancelHeadTimer() {
    if (headTimer != null) {
      headTimer.cancel(false);
      headTimer = null;
    }
  }

  // --- what ResponseTracker reports ---

  void responseStarted() {
    started++;
  }

  void responseCompleted() {
    completed++;
    if (deferred != null && completed == dispatched) {
      Rejection rejection = deferred;
      deferred = null;
      answer(rejection, deferredDetail);
    }
  }

  /** The connection switched protocols (101): from now on bytes pass untouched. */
  void switchedProtocols() {
    if (state == State.REFUSED) {
      return;
    }
    cancelHeadTimer();
    state = State.TUNNEL;
    passPending();
  }
}
