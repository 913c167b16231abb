package io.teller.balancer.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.timeout.IdleStateHandler;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.impl.headers.HeadersMultiMap;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One event loop's HTTP/1.1 connections to the instances, with one pair of connect and idle
 * timeouts: plain Netty channels ({@code HttpClientCodec}) on the loop's own thread, kept alive in
 * a pool per instance address, at most one request at a time on each.
 *
 * <p>Why not Vert.x's HTTP client: under HTTPS load it was 12% of the balancer's JFR samples (its
 * pool's executor and resource manager, a request object, a stream and queues per request, futures
 * at every step), against 4% for these channels, and side by side ({@code bench/builds.sh},
 * 2026-11-30) the balancer served 1.13x the HTTPS and 1.22x the HTTP requests per CPU second. The
 * answer is handed to the stages as a Vert.x {@link io.vertx.core.http.HttpClientResponse} ({@link
 * UpstreamCall}), so that relaying it is the same code whichever client fetched it; requests that
 * upgrade (WebSocket) still go through Vert.x's client, whose tunnel they need.
 *
 * <p>Event-loop confined: every method runs on the loop of the context it was made on, and so does
 * every channel it opens.
 */
final class Upstream {

  /** Beyond this many connections to one instance, a request waits for one to come free. */
  static final int MAX_CONNECTIONS_PER_INSTANCE = 1024;

  /** The response's headers as Vert.x's {@code MultiMap}, without a copy: Vert.x's own type. */
  private static final HttpHeadersFactory VERTX_HEADERS =
      new HttpHeadersFactory() {
        @Override
        public HttpHeaders newHeaders() {
          return HeadersMultiMap.httpHeaders();
        }

        @Override
        public HttpHeaders newEmptyHeaders() {
          return HeadersMultiMap.httpHeaders();
        }
      };

  private final ContextInternal context;
  private final Bootstrap bootstrap;
  private final int connectMillis;
  private final int idleMillis;
  private final int maxPerInstance;
  private final Map<Address, Pool> pools = new HashMap<>();
  private final Set<Channel> open = new HashSet<>();
  private boolean closed;

  /** Connections made on {@code context}'s event loop with Vert.x's transport and resolver. */
  Upstream(ContextInternal context, int connectMillis, int idleMillis) {
    this(context, connectMillis, idleMillis, MAX_CONNECTIONS_PER_INSTANCE);
  }

  /** As above, with at most {@code maxPerInstance} connections to one address (for tests). */
  Upstream(ContextInternal context, int connectMillis, int idleMillis, int maxPerInstance) {
    this.context = context;
    this.connectMillis = connectMillis;
    VertxInternal vertx = context.owner();
    this.idleMillis = idleMillis;
    this.maxPerInstance = maxPerInstance;
    this.bootstrap =
        new Bootstrap()
            .group(context.nettyEventLoop())
            .channelFactory(vertx.transport().channelFactory(false))
            // Netty's default resolver would block the event loop on the JDK's lookup.
            .resolver(vertx.nameResolver().nettyAddressResolverGroup())
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectMillis)
            .option(ChannelOption.TCP_NODELAY, true);
  }

  ContextInternal context() {
    return context;
  }

  /**
   * A connection to {@code host:port}: the most recently used idle one, a new one, or, once the
   * instance has {@link #MAX_CONNECTIONS_PER_INSTANCE} (or the limit given), the first to come free
   * within the connect timeout. Fails with the connect's failure, or a {@link TimeoutException}.
   */
  Future<UpstreamConnection> acquire(String host, int port) {
    if (closed) {
      return Future.failedFuture(new IllegalStateException("the balancer is stopping"));
    }
    // A record, not "host:port": no string built and hashed per request.
    Address address = new Address(host, port);
    Pool known = pools.get(address);
    Pool pool = known != null ? known : new Pool(address);
    if (known == null) {
      pools.put(address, pool);
    }
    UpstreamConnection idle;
    while ((idle = pool.idle.pollLast()) != null) {
      if (idle.reusable()) {
        return Future.succeededFuture(idle);
      }
    }
    Promise<UpstreamConnection> promise = context.promise();
    if (pool.connections < maxPerInstance) {
      connect(pool, promise);
    } else {
      Waiter waiter = new Waiter(promise);
      waiter.timer =
          context
              .owner()
              .setTimer(
                  connectMillis,
                  t -> {
                    if (pool.waiters.remove(waiter)) {
                      promise.tryFail(
                          new TimeoutException(
                              "no connection to "
                                  + pool.address
                                  + " came free within "
                                  + connectMillis
                                  + " ms"));
                    }
                  });
      pool.waiters.add(waiter);
    }
    return promise.future();
  }

  private void connect(Pool pool, Promise<UpstreamConnection> promise) {
    pool.connections++;
    UpstreamConnection connection = new UpstreamConnection(this, pool);
    ChannelFuture connecting =
        bootstrap
            .clone()
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel channel) {
                    channel
                        .pipeline()
                        .addLast(
                            new IdleStateHandler(0, 0, idleMillis, TimeUnit.MILLISECONDS),
                            new HttpClientCodec(
                                new HttpDecoderConfig().setHeadersFactory(VERTX_HEADERS),
                                false,
                                false),
                            connection);
                  }
                })
            .connect(pool.address.host(), pool.address.port());
    Channel channel = connecting.channel();
    connection.channel = channel;
    open.add(channel);
    channel.closeFuture().addListener(f -> context.emit(v -> closed(connection)));
    connecting.addListener(
        done ->
            context.emit(
                v -> {
                  if (done.isSuccess()) {
                    promise.complete(connection);
                  } else {
                    promise.fail(done.cause());
                  }
                }));
  }

  /** The connection's exchange is over: it waits in its pool, or is closed when it may not. */
  void release(UpstreamConnection connection, boolean reusable) {
    Pool pool = connection.pool;
    if (!reusable || closed || !connection.reusable()) {
      connection.channel.close();
      return;
    }
    Waiter waiter = pool.waiters.poll();
    if (waiter != null) {
      context.owner().cancelTimer(waiter.timer);
      waiter.promise.complete(connection);
    } else {
      pool.idle.addLast(connection);
    }
  }

  /** The connection's channel closed (whoever closed it, connected or not): once per channel. */
  void closed(UpstreamConnection connection) {
    Pool pool = connection.pool;
    open.remove(connection.channel);
    pool.connections--;
    pool.idle.remove(connection);
    // Once closed, the waiters are close()'s to fail (this runs inside its channel.close()).
    Waiter waiter = closed ? null : pool.waiters.poll();
    if (waiter != null) {
      context.owner().cancelTimer(waiter.timer);
      connect(pool, waiter.promise);
    } else if (pool.connections == 0 && pool.waiters.isEmpty()) {
      pools.remove(pool.address, pool);
    }
  }

  /** Closes every connection, idle or in use. */
  Future<Void> close() {
    closed = true;
    List<Future<Void>> closing = new ArrayList<>();
    for (Channel channel : new ArrayList<>(open)) {
      Promise<Void> done = Promise.promise();
      channel.close().addListener(f -> done.complete());
      closing.add(done.future());
    }
    for (Pool pool : pools.values()) {
      for (Waiter waiter : pool.waiters) {
        context.owner().cancelTimer(waiter.timer);
        waiter.promise.tryFail(new IllegalStateException("the balancer is stopping"));
      }
      pool.waiters.clear();
    }
    return Future.join(closing).mapEmpty();
  }

  /** An instance's address, the key of its pool. */
  record Address(String host, int port) {
    @Override
    public String toString() {
      return host + ':' + port;
    }
  }

  /** One instance address's connections. */
  static final class Pool {
    final Address address;
    final ArrayDeque<UpstreamConnection> idle = new ArrayDeque<>();
    final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    int connections;

    Pool(Address address) {
      this.address = address;
    }
  }

  private static final class Waiter {
    final Promise<UpstreamConnection> promise;
    long timer;

    Waiter(Promise<UpstreamConnection> promise) {
      this.promise = promise;
    }
  }
}
