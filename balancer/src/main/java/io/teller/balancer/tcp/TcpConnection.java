package io.teller.balancer.tcp;

import io.teller.balancer.counting.InFlight;
import io.teller.balancer.resilience.Failure;
import io.teller.balancer.resilience.Resilience;
import io.teller.balancer.strategy.Endpoint;
import io.teller.balancer.strategy.PickContext;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection's way through an L4 listener, as a chain of stages like an HTTP request's:
 *
 * <ol>
 *   <li>{@link #route() route}: the listener's service, or on an SNI listener the service named in
 *       the TLS ClientHello;
 *   <li>{@link #attempts admit and attempt}: counted toward the retry budget; pick an instance with
 *       the service's strategy, take a lease on its in-flight count, connect — another instance,
 *       never the same twice, when one cannot be reached and the {@link Resilience} policy allows;
 *   <li>{@link #relay relay}: bytes both ways with back-pressure; a FIN from one side is passed on
 *       after every byte before it while the other direction keeps flowing (half-close); once both
 *       directions have ended, both sockets close;
 *   <li>{@link #finish() finish}, once both sides are closed: the lease given back.
 * </ol>
 *
 * Every stage fails with a {@link Failure}; {@link #fail} is the one exit: it counts the failure
 * once and closes the client's connection. The lease is held for the connection's whole life, so
 * least-connections counts open connections, shared with the other balancers as request counts are.
 *
 * <p>Every callback runs on the event loop of the accepting {@link TcpVerticle}, which is also the
 * one of its {@link NetClient}: the state here needs no synchronisation. Nothing on this path calls
 * anything on the network but the chosen instance.
 */
final class TcpConnection {

  private static final Logger LOG = LoggerFactory.getLogger("teller.tcp");

  /** The most a ClientHello may take: one full TLS record's payload. */
  static final int MAX_HELLO_BYTES = 16 * 1024;

  /** A fatal TLS alert, unrecognized_name (RFC 6066 section 3), as a TLS 1.2 record. */
  private static final Buffer UNRECOGNIZED_NAME =
      Buffer.buffer(new byte[] {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70});

  private final NetSocket client;
  private final int port;
  private final TcpRouter router;
  private final NetClient connector;
  private final TcpOptions options;
  private final InFlight inFlight;
  private final Resilience resilience;
  private final TcpStats.Listener stats;
  private TcpRoutes.Target target;
  private Resilience.Tries tries;
  private Failure lastFailure;
  private boolean sni;
  private InFlight.Lease lease;
  private LongAdder openToInstance;
  private NetSocket backend;
  private int directionsEnded;
  private boolean clientClosed;
  private boolean backendClosed;
  private boolean finished;

  TcpConnection(
      NetSocket client,
      int port,
      TcpRouter router,
      NetClient connector,
      TcpOptions options,
      InFlight inFlight,
      Resilience resilience) {
    this.client = client;
    this.port = port;
    this.router = router;
    this.connector = connector;
    this.options = options;
    this.inFlight = inFlight;
    this.resilience = resilience;
    this.stats = router.stats().listener(port);
  }

  /** Takes the freshly accepted connection in hand (from the listener's connect handler). */
  void start() {
    stats.accepted.increment();
    stats.open.increment();
    client.pause();
    NettyChannel.allowHalfClosure(client);
    client.exceptionHandler(
        e -> LOG.debug("TCP port {}: client {}: {}", port, client.remoteAddress(), e.toString()));
    client.closeHandler(
        v -> {
          clientClosed = true;
          closed();
        });
    route()
        .compose(this::attempts)
        .onSuccess(this::relay)
        .onFailure(cause -> fail(Failure.of(cause, service())));
  }

  /** The service this connection goes to. */
  private Future<TcpRoutes.Target> route() {
    TcpRoutes.Listener listener = router.routes().listeners().get(port);
    if (listener == null) {
      return Future.failedFuture(Failure.noRoute("port " + port + " (its listener was removed)"));
    }
    if (listener.spec().kind() != ListenerSpec.Kind.SNI) {
      return listener.target() == null
          ? Future.failedFuture(Failure.unknownService(listener.spec().service()))
          : Future.succeededFuture(listener.target());
    }
    sni = true;
    return NettyChannel.serverName(client, MAX_HELLO_BYTES, options.helloTimeoutMillis())
        .compose(
            name -> {
              TcpRoutes routes = router.routes();
              String service = routes.sni().service(name);
              TcpRoutes.Target found = service == null ? null : routes.pools().get(service);
              return found == null
                  ? Future.failedFuture(Failure.noRoute("server name " + name))
                  : Future.succeededFuture(found);
            });
  }

  /** Admits the connection, then tries instances until one is connected or none may be. */
  private Future<NetSocket> attempts(TcpRoutes.Target target) {
    this.target = target;
    resilience.admitted();
    tries = resilience.tries(target.pool());
    Promise<NetSocket> connected = Promise.promise();
    attempt(connected);
    return connected.future();
  }

  private void attempt(Promise<NetSocket> connected) {
    if (clientClosed) {
      connected.fail(Failure.clientGone(service(), null));
      return;
    }
    Endpoint endpoint = target.picker().pick(pick);
    if (endpoint == null) {
      connected.fail(lastFailure != null ? lastFailure : Failure.noInstance(service()));
      return;
    }
    tries.add(endpoint.id());
    InFlight.Lease attempt = inFlight.acquire(endpoint.id());
    connector
        .connect(endpoint.port(), endpoint.host())
        .onComplete(
            done -> {
              if (done.failed()) {
                attempt.release();
                stats.connectFailures.increment();
                lastFailure = Failure.connect(service(), endpoint.id(), done.cause());
                resilience.record(lastFailure);
                LOG.debug("TCP port {}: {}", port, lastFailure.reason());
                if (resilience.retry(tries, lastFailure)) {
                  attempt(connected);
                } else {
                  connected.fail(lastFailure);
                }
                return;
              }
              NetSocket socket = done.result();
              // Before its first read: a FIN from the instance must not close the client's side.
              NettyChannel.allowHalfClosure(socket);
              resilience.reached(endpoint.id());
              if (clientClosed) {
                attempt.release();
                socket.close();
                connected.fail(Failure.clientGone(service(), endpoint.id()));
                return;
              }
              lease = attempt;
              openToInstance = stats.instance(endpoint.id());
              openToInstance.increment();
              socket.exceptionHandler(
                  e ->
                      LOG.debug("TCP port {}: instance {}: {}", port, endpoint.id(), e.toString()));
              connected.complete(socket);
            });
  }

  /** Bytes both ways until each direction has ended, or either side closes. */
  private void relay(NetSocket backend) {
    this.backend = backend;
    backend.pause();
    backend.closeHandler(
        v -> {
          backendClosed = true;
          closed();
        });
    new Relay(client, backend, stats.bytesToInstances, this::directionEnded).start();
    new Relay(backend, client, stats.bytesToClients, this::directionEnded).start();
  }

  /** One direction's FIN was passed on; after both, the connection is done. */
  private void directionEnded() {
    if (++directionsEnded == 2) {
      client.close();
      backend.close();
    }
  }

  /** The one exit for failures: counted once, then the client's connection closed. */
  private void fail(Failure failure) {
    resilience.record(failure);
    if (failure.kind() == Failure.Kind.CLIENT_GONE) {
      return;
    }
    LOG.debug("TCP port {}: client {} closed: {}", port, client.remoteAddress(), failure.reason());
    stats.failed.increment();
    if (sni && failure.kind() == Failure.Kind.NO_ROUTE) {
      // A TLS client is told in TLS terms that no one here serves the name it asked for.
      client.write(UNRECOGNIZED_NAME).onComplete(v -> client.close());
    } else {
      client.close();
    }
  }

  /** A side closed: the relays close the other; once both are closed the connection is done. */
  private void closed() {
    if (clientClosed && (backend == null || backendClosed)) {
      finish();
    }
  }

  private void finish() {
    if (finished) {
      return;
    }
    finished = true;
    stats.open.decrement();
    if (openToInstance != null) {
      openToInstance.decrement();
    }
    if (lease != null) {
      lease.release();
    }
  }

  private String service() {
    return target == null ? null : target.pool().service().name();
  }

  /** The picker's view of a connection: the client's address, and the instances not to pick. */
  private final PickContext pick =
      new PickContext() {
        @Override
        public String header(String name) {
          return null;
        }

        @Override
        public String cookie(String name) {
          return null;
        }

        @Override
        public String clientAddress() {
          SocketAddress remote = client.remoteAddress();
          return remote == null || remote.hostAddress() == null ? "" : remote.hostAddress();
        }

        @Override
        public Set<String> excluded() {
          return tries.excluded();
        }
      };
}
