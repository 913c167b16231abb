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
 * One event loop's HTTP clients to the backends: one per pair of connect and idle timeouts in use,
 * as both belong to a client's connections (the idle timeout is a channel handler, which costs
 * nothing per request, unlike a timer per request). Services on the balancer's defaults share one
 * client; each service with timeouts of its own gets a client, with keep-alive pools, the first
 * time it needs one. Event-loop confined.
 */
public final class BackendClients {

  private final Vertx vertx;
  private final ContextInternal context;
  private final List<Entry> clients = new ArrayList<>(2);

  private record Entry(int connectMillis, int idleMillis, HttpClient client, Upstream upstream) {}

  /** Made on the event loop's context, which its connections keep to. */
  public BackendClients(Vertx vertx) {
    this.vertx = vertx;
    this.context = (ContextInternal) vertx.getOrCreateContext();
  }

  /** Vert.x's client whose connections have these timeouts: for requests that upgrade. */
  public HttpClient get(int connectMillis, int idleMillis) {
    return entry(connectMillis, idleMillis).client;
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
    HttpClient client =
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
    Entry entry =
        new Entry(
            connectMillis, idleMillis, client, new Upstream(context, connectMillis, idleMillis));
    clients.add(entry);
    return entry;
  }

  public Future<Void> close() {
    List<Future<Void>> closing = new ArrayList<>();
    clients.forEach(
        entry -> {
          closing.add(entry.client.close());
          closing.add(entry.upstream.close());
        });
    clients.clear();
    return Future.join(closing).mapEmpty();
  }
}
