package io.teller.balancer.proxy;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.internal.ContextInternal;
import java.util.ArrayList;
import java.util.List;

/**
 * One event loop's connections to the backends: one {@link Upstream} per pair of connect and idle
 * timeouts in use, as both belong to its connections (the idle timeout is a channel handler, which
 * costs nothing per request, unlike a timer per request), and, made the first time an upgrade needs
 * one, a Vert.x HTTP client with the same timeouts. Services on the balancer's defaults share one
 * pair; each service with timeouts of its own gets its own the first time it needs them. Event-loop
 * confined.
 */
public final class BackendClients {

  private final Vertx vertx;
  private final ContextInternal context;
  private final List<Entry> clients = new ArrayList<>(2);

  private static final class Entry {
    final int connectMillis;
    final int idleMillis;
    final Upstream upstream;
    HttpClient client;

    Entry(int connectMillis, int idleMillis, Upstream upstream) {
      this.connectMillis = connectMillis;
      this.idleMillis = idleMillis;
      this.upstream = upstream;
    }
  }

  /** Made on the event loop's context, which its connections keep to. */
  public BackendClients(Vertx vertx) {
    this.vertx = vertx;
    this.context = (ContextInternal) vertx.getOrCreateContext();
  }

  /** Vert.x's client whose connections have these timeouts: for requests that upgrade. */
  public HttpClient get(int connectMillis, int idleMillis) {
    Entry entry = entry(connectMillis, idleMillis);
    if (entry.client == null) {
      entry.client =
          vertx.createHttpClient(
              new HttpClientOptions()
                  .setKeepAlive(true)
                  .setConnectTimeout(connectMillis)
                  .setIdleTimeout(idleMillis)
                  .setIdleTimeoutUnit(java.util.concurrent.TimeUnit.MILLISECONDS)
                  .setMaxRedirects(0)
                  .setDecompressionSupported(false),
              new PoolOptions()
                  .setHttp1MaxSize(Upstream.MAX_CONNECTIONS_PER_INSTANCE)
                  .setMaxWaitQueueSize(-1));
    }
    return entry.client;
  }

  /** The Netty-level connections with these timeouts: for every other request. */
  Upstream upstream(int connectMillis, int idleMillis) {
    return entry(connectMillis, idleMillis).upstream;
  }

  private Entry entry(int connectMillis, int idleMillis) {
    for (Entry entry : clients) {
      if (entry.connectMillis == connectMillis && entry.idleMillis == idleMillis) {
        return entry;
      }
    }
    Entry entry =
        new Entry(connectMillis, idleMillis, new Upstream(context, connectMillis, idleMillis));
    clients.add(entry);
    return entry;
  }

  public Future<Void> close() {
    List<Future<Void>> closing = new ArrayList<>();
    clients.forEach(
        entry -> {
          if (entry.client != null) {
            closing.add(entry.client.close());
          }
          closing.add(entry.upstream.close());
        });
    clients.clear();
    return Future.join(closing).mapEmpty();
  }
}
