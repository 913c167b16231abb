import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.handler.codec.http.*;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;
import java.io.File;
import java.net.InetSocketAddress;
import java.util.*;

/**
 * A minimal HTTP/1.1 forwarding proxy written directly on Netty 4.2, to measure the ceiling of a
 * Netty-level rewrite of Teller's request path (bench/http.sh, target netty-proto). One event
 * loop group of 2 threads (transport from {@code -Dnetty.transport}: io_uring, the default and
 * Teller's, epoll or nio) serves an HTTP and an HTTPS (OpenSSL) listener; each event loop keeps
 * its own pool of idle keep-alive connections per backend, connected on that loop; backends are
 * picked round robin. Requests and answers are streamed part by part, hop-by-hop headers dropped,
 * X-Forwarded-* and Forwarded added. Usage:
 * java -cp balancer/target/teller-balancer.jar bench/NettyForward.java HTTP_PORT HTTPS_PORT CERT KEY BACKEND_PORT...
 */
public final class NettyForward {
  static final HttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);
  static final List<String> CIPHERS = List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
      "TLS_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"); // Teller's list; BoringSSL has no DHE
  static int[] backendPorts;
  static final String TRANSPORT = System.getProperty("netty.transport", "io_uring");
  static final Class<? extends ServerChannel> SERVER_CHANNEL = switch (TRANSPORT) {
    case "io_uring" -> IoUringServerSocketChannel.class;
    case "epoll" -> EpollServerSocketChannel.class;
    default -> NioServerSocketChannel.class;
  };
  static final Class<? extends Channel> CLIENT_CHANNEL = switch (TRANSPORT) {
    case "io_uring" -> IoUringSocketChannel.class;
    case "epoll" -> EpollSocketChannel.class;
    default -> NioSocketChannel.class;
  };

  static IoHandlerFactory ioHandlerFactory() {
    return switch (TRANSPORT) {
      case "io_uring" -> IoUringIoHandler.newFactory();
      case "epoll" -> EpollIoHandler.newFactory();
      case "nio" -> NioIoHandler.newFactory();
      default -> throw new IllegalArgumentException("netty.transport " + TRANSPORT);
    };
  }

  /** What one event loop owns: idle backend connections per backend, the round-robin position. */
  static final class Loop {
    @SuppressWarnings("unchecked")
    final ArrayDeque<Channel>[] idle = new ArrayDeque[backendPorts.length];
    int next;
    Loop() { for (int i = 0; i < idle.length; i++) idle[i] = new ArrayDeque<>(); }
  }
  static final FastThreadLocal<Loop> LOOP = new FastThreadLocal<>() {
    @Override protected Loop initialValue() { return new Loop(); }
  };

  public static void main(String[] args) throws Exception {
    if (args.length < 5) {
      System.err.println("usage: NettyForward HTTP_PORT HTTPS_PORT CERT KEY BACKEND_PORT...");
      System.exit(2);
    }
    backendPorts = Arrays.stream(args, 4, args.length).mapToInt(Integer::parseInt).toArray();
    SslContext ssl = SslContextBuilder.forServer(new File(args[2]), new File(args[3]))
        .sslProvider(SslProvider.OPENSSL)
        .protocols("TLSv1.3", "TLSv1.2")
        .ciphers(CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
        .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_1_1))
        .build();
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, ioHandlerFactory());
    listen(group, Integer.parseInt(args[0]), null);
    listen(group, Integer.parseInt(args[1]), ssl);
    System.out.println("netty-forward ready: http :" + args[0] + ", https :" + args[1] + " ("
        + ssl.getClass().getSimpleName() + ", " + TRANSPORT + "), backends " + Arrays.toString(backendPorts));
  }

  static void listen(EventLoopGroup group, int port, SslContext ssl) throws InterruptedException {
    new ServerBootstrap().group(group).channel(SERVER_CHANNEL)
        .option(ChannelOption.SO_BACKLOG, 1024)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override protected void initChannel(Channel ch) {
            if (ssl != null) ch.pipeline().addLast(ssl.newHandler(ch.alloc()));
            ch.pipeline().addLast(new HttpServerCodec(), new Frontend(ssl != null ? "https" : "http"));
          }
        })
        .bind("127.0.0.1", port).sync();
  }

  /** One client connection: one exchange at a time; requests pipelined behind it wait in a queue. */
  static final class Frontend extends ChannelInboundHandlerAdapter {
    final String proto;
    Channel client;
    String clientIp, localPort, forwardedFor;
    Backend backend;            // the connection serving the open exchange, once it is connected
    List<Object> pending;       // request parts read while the backend connection is being made
    ArrayDeque<Object> queue;   // messages of pipelined requests, read while an exchange is open
    boolean busy, requestDone = true, keepAlive, http10, head;

    Frontend(String proto) { this.proto = proto; }

    @Override public void channelActive(ChannelHandlerContext ctx) {
      client = ctx.channel();
      clientIp = ((InetSocketAddress) client.remoteAddress()).getAddress().getHostAddress();
      localPort = Integer.toString(((InetSocketAddress) client.localAddress()).getPort());
      forwardedFor = "for=" + (clientIp.indexOf(':') >= 0 ? "\"[" + clientIp + "]\"" : clientIp);
      ctx.fireChannelActive();
    }

    @Override public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (queue == null && busy && requestDone) queue = new ArrayDeque<>();
      if (queue != null) queue.add(msg); else handle(msg);
    }

    void handle(Object msg) {
      if (msg instanceof HttpRequest req) {
        if (req.decoderResult().isFailure()) {
          ReferenceCountUtil.release(msg);
          client.writeAndFlush(error(HttpResponseStatus.BAD_REQUEST, false)).addListener(ChannelFutureListener.CLOSE);
          return;
        }
        busy = true; requestDone = false;
        keepAlive = HttpUtil.isKeepAlive(req);
        http10 = req.protocolVersion().equals(HttpVersion.HTTP_1_0);
        head = req.method().equals(HttpMethod.HEAD);
        send(request(req));
      }
      if (msg instanceof HttpContent) {
        if (msg instanceof LastHttpContent) requestDone = true;
        if (pending != null) pending.add(msg);
        else if (backend != null) backend.channel.write(msg);
        else ReferenceCountUtil.release(msg); // the exchange already ended (early answer or 502)
      }
    }

    @Override public void channelReadComplete(ChannelHandlerContext ctx) {
      if (backend != null) backend.channel.flush();
    }

    /** Writes the request to an idle backend connection of this loop, or to a new one. */
    void send(HttpRequest out) {
      Loop loop = LOOP.get();
      int index = loop.next;
      loop.next = (index + 1) % backendPorts.length;
      Channel idle;
      while ((idle = loop.idle[index].pollLast()) != null && !idle.isActive()) { }
      if (idle != null) {
        attach(idle.pipeline().get(Backend.class));
        idle.write(out);
        return;
      }
      pending = new ArrayList<>(4);
      pending.add(out);
      new Bootstrap().group(client.eventLoop()).channel(CLIENT_CHANNEL)
          .option(ChannelOption.TCP_NODELAY, true)
          .handler(new ChannelInitializer<Channel>() {
            @Override protected void initChannel(Channel ch) {
              ch.pipeline().addLast(new HttpClientCodec(), new Backend(index));
            }
          })
          .connect("127.0.0.1", backendPorts[index])
          .addListener((ChannelFutureListener) f -> {
            List<Object> parts = pending;
            pending = null;
            if (!f.isSuccess() || !client.isActive()) {
              parts.forEach(ReferenceCountUtil::release);
              f.channel().close();
              if (client.isActive()) badGateway();
              return;
            }
            attach(f.channel().pipeline().get(Backend.class));
            parts.forEach(f.channel()::write);
            f.channel().flush();
          });
    }

    void attach(Backend b) { backend = b; b.frontend = this; b.started = false; }

    HttpRequest request(HttpRequest req) {
      HttpHeaders h = HEADERS.newHeaders();
      copyEndToEnd(req.headers(), h);
      if (HttpUtil.isTransferEncodingChunked(req)) h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
      String host = req.headers().get(HttpHeaderNames.HOST);
      // No trusted proxies in front: the client's own X-Forwarded-For/Forwarded are replaced (as Teller's default).
      h.set("x-forwarded-for", clientIp);
      h.set("x-forwarded-proto", proto);
      if (host != null) h.set("x-forwarded-host", host);
      h.set("x-forwarded-port", localPort);
      h.set("forwarded", forwardedFor + (host != null ? ";host=\"" + host + "\"" : "") + ";proto=" + proto);
      return new DefaultHttpRequest(HttpVersion.HTTP_1_1, req.method(), req.uri(), h);
    }

    HttpResponse response(HttpResponse res) {
      HttpHeaders h = HEADERS.newHeaders();
      copyEndToEnd(res.headers(), h);
      int code = res.status().code();
      if (HttpUtil.isTransferEncodingChunked(res)) {
        if (http10) keepAlive = false; else h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
      } else if (!h.contains(HttpHeaderNames.CONTENT_LENGTH) && !head && code >= 200 && code != 204 && code != 304) {
        keepAlive = false; // the body ends when the backend closes: so must the client connection
      }
      if (!keepAlive) h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      else if (http10) h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      return new DefaultHttpResponse(HttpVersion.HTTP_1_1, res.status(), h);
    }

    /** The backend has answered in full: its connection back to the pool, the next request on. */
    void finish(Backend b, boolean reusable) {
      backend = null; b.frontend = null; busy = false;
      // A backend that answered before the whole request body was sent cannot be reused.
      if (reusable && requestDone && b.channel.isActive()) LOOP.get().idle[b.index].addLast(b.channel);
      else b.channel.close();
      if (!keepAlive) {
        client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        return;
      }
      while (queue != null && !(busy && requestDone)) {
        Object next = queue.poll();
        if (next == null) queue = null; else handle(next);
      }
      if (backend != null) backend.channel.flush();
    }

    void badGateway() {
      busy = false;
      boolean keep = keepAlive && requestDone && queue == null;
      var done = client.writeAndFlush(error(HttpResponseStatus.BAD_GATEWAY, keep));
      if (!keep) done.addListener(ChannelFutureListener.CLOSE);
    }

    static FullHttpResponse error(HttpResponseStatus status, boolean keepAlive) {
      FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
          Unpooled.copiedBuffer(status + "\n", java.nio.charset.StandardCharsets.US_ASCII));
      res.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
          .setInt(HttpHeaderNames.CONTENT_LENGTH, res.content().readableBytes());
      if (!keepAlive) res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      return res;
    }

    @Override public void channelInactive(ChannelHandlerContext ctx) {
      if (pending != null) { pending.forEach(ReferenceCountUtil::release); pending.clear(); }
      if (queue != null) { queue.forEach(ReferenceCountUtil::release); queue = null; }
      if (backend != null) { backend.frontend = null; backend.channel.close(); backend = null; }
    }

    @Override public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) { ctx.close(); }
  }

  /** One backend connection; serves the frontend it is attached to, or sits in its loop's pool. */
  static final class Backend extends ChannelInboundHandlerAdapter {
    final int index;
    Channel channel, flushTo;
    Frontend frontend;
    boolean started, informational, reusable;

    Backend(int index) { this.index = index; }

    @Override public void handlerAdded(ChannelHandlerContext ctx) { channel = ctx.channel(); }

    @Override public void channelRead(ChannelHandlerContext ctx, Object msg) {
      Frontend f = frontend;
      if (f == null) { ReferenceCountUtil.release(msg); ctx.close(); return; } // nothing was asked
      if (msg instanceof HttpResponse res) {
        if (res.decoderResult().isFailure()) { ReferenceCountUtil.release(msg); ctx.close(); return; }
        int code = res.status().code();
        informational = code < 200 && code != 101; // 100 Continue etc.: the real answer follows
        reusable = HttpUtil.isKeepAlive(res);
        started = true;
        f.client.write(informational ? res : f.response(res));
        flushTo = f.client;
      }
      if (msg instanceof HttpContent content) {
        f.client.write(content);
        flushTo = f.client;
        if (content instanceof LastHttpContent) {
          if (informational) informational = false; else f.finish(this, reusable);
        }
      }
    }

    @Override public void channelReadComplete(ChannelHandlerContext ctx) {
      if (flushTo != null) { flushTo.flush(); flushTo = null; }
    }

    @Override public void channelInactive(ChannelHandlerContext ctx) {
      LOOP.get().idle[index].remove(ctx.channel());
      Frontend f = frontend;
      if (f == null) return;
      frontend = null; f.backend = null;
      if (started) f.client.close(); else f.badGateway(); // mid-answer, the client cannot be told
    }

    @Override public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) { ctx.close(); }
  }

  static void copyEndToEnd(HttpHeaders from, HttpHeaders to) {
    Set<String> named = null; // fields a Connection header names are hop-by-hop too
    for (String line : from.getAll(HttpHeaderNames.CONNECTION)) {
      for (String token : line.split(",")) {
        if (named == null) named = new HashSet<>();
        named.add(token.trim().toLowerCase(Locale.ROOT));
      }
    }
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = from.iteratorCharSequence(); it.hasNext(); ) {
      Map.Entry<CharSequence, CharSequence> e = it.next();
      CharSequence name = e.getKey();
      if (!isHopByHop(name) && (named == null || !named.contains(name.toString().toLowerCase(Locale.ROOT)))) {
        to.add(name, e.getValue());
      }
    }
  }

  static boolean isHopByHop(CharSequence n) {
    return switch (n.length()) {
      case 2 -> AsciiString.contentEqualsIgnoreCase(n, "te");
      case 7 -> AsciiString.contentEqualsIgnoreCase(n, "trailer") || AsciiString.contentEqualsIgnoreCase(n, "upgrade");
      case 10 -> AsciiString.contentEqualsIgnoreCase(n, "connection") || AsciiString.contentEqualsIgnoreCase(n, "keep-alive");
      case 17 -> AsciiString.contentEqualsIgnoreCase(n, "transfer-encoding");
      default -> n.length() > 6 && AsciiString.regionMatches(n, true, 0, "proxy-", 0, 6);
    };
  }
}
