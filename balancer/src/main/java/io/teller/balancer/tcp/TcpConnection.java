package io.teller.balancer.tcp;

import io.teller.balancer.counting.Ejections;
import io.teller.balancer.counting.InFlight;
import io.teller.balancer.strategy.Endpoint;
import io.teller.balancer.strategy.PickContext;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection's way through an L4 listener: (on an SNI listener, read the ClientHello and
 * find the service by its server name), pick an instance with the service's strategy, connect to it
 * — trying another instance, never the same twice, when one cannot be reached — then relay bytes
 * both ways until either side ends. A lease on the instance's in-flight count is held for the
 * connection's whole life, so least-connections counts open connections, shared with the other
 * balancers as request counts are.
 *
 * <p>Every callback runs on the event loop of the accepting {@link TcpVerticle}, which is also the
 * one of its {@link NetClient}: the state here needs no synchronisation. Nothing on this path calls
 * anything on the network but the chosen instance.
 *
 * <p>Half-close: Vert.x 5.0 reads a peer's FIN as the end of the connection and closes the socket
 * (Netty's {@code ALLOW_HALF_CLOSURE} is not exposed, and {@code NetSocket.end()} is {@code
 * close()}). So a FIN from one side reaches the other side as a FIN, after every byte before it,
 * and then both directions are closed: a client that half-closes and waits for an answer does not
 * get it.
 */
final class TcpConnection {

  private static final Logger LOG = LoggerFactory.getLogger("teller.tcp");

  /** A fatal TLS alert, unrecognized_name (RFC 6066 section 3), as a TLS 1.2 record. */
  private static final Buffer UNRECOGNIZED_NAME =
      Buffer.buffer(new byte[] {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70});

  private final Vertx vertx;
  private final NetSocket client;
  private final int port;
  private final TcpRouter router;
  private final NetClient connector;
  private final TcpOptions options;
  private final InFlight inFlight;
  private final Ejections ejections;
  private final TcpStats.Listener stats;
  private final Pick pick = new Pick();
  private int retriesLeft;
  private String lastFailure;
  private Buffer hello;
  private long helloTimer = -1;
  private InFlight.Lease lease;
  private LongAdder openToInstance;
  private NetSocket backend;
  private boolean clientClosed;
  private boolean backendClosed;
  private boolean finished;

  TcpConnection(
      Vertx vertx,
      NetSocket client,
      int port,
      TcpRouter router,
      NetClient connector,
      TcpOptions options,
      InFlight inFlight,
      Ejections ejections) {
    this.vertx = vertx;
    this.client = client;
    this.port = port;
    this.router = router;
    this.connector = connector;
    this.options = options;
    this.inFlight = inFlight;
    this.ejections = ejections;
    this.stats = router.stats().listener(port);
    this.retriesLeft = options.retries();
  }

  /** Takes the freshly accepted connection in hand. */
  void start() {
    stats.accepted.increment();
    stats.open.increment();
    client.pause();
    client.exceptionHandler(
        e -> LOG.debug("TCP port {}: client {}: {}", port, client.remoteAddress(), e.toString()));
    client.closeHandler(
        v -> {
          clientClosed = true;
          if (backend == null) {
            finish();
          } else {
            closed();
          }
        });
    TcpRoutes routes = router.routes();
    TcpRoutes.Listener listener = routes.listeners().get(port);
    if (listener == null) {
      fail("the listener on port " + port + " was just removed");
    } else if (listener.spec().kind() == ListenerSpec.Kind.SNI) {
      readHello();
    } else if (listener.target() == null) {
      fail("service " + listener.spec().service() + " is not known to the registry");
    } else {
      connect(listener.target(), null);
    }
  }

  /** SNI: gathers the first bytes until they hold the whole ClientHello, or the time is up. */
  private void readHello() {
    hello = Buffer.buffer();
    helloTimer =
        vertx.setTimer(
            options.helloTimeoutMillis(),
            t -> {
              helloTimer = -1;
              fail("no TLS ClientHello within " + options.helloTimeoutMillis() + " ms");
            });
    client.handler(
        bytes -> {
          hello.appendBuffer(bytes);
          ClientHello.Result result = ClientHello.read(hello);
          if (result instanceof ClientHello.NotTls notTls) {
            cancelHelloTimer();
            client.pause();
            fail(notTls.reason());
          } else if (result instanceof ClientHello.Hello found) {
            cancelHelloTimer();
            // What came after the hello stays queued until the relay starts.
            client.pause();
            TcpRoutes routes = router.routes();
            String service = routes.sni().service(found.serverName());
            TcpRoutes.Target target = service == null ? null : routes.pools().get(service);
            if (target == null) {
              LOG.debug("TCP port {}: no service for server name {}", port, found.serverName());
              stats.failed.increment();
              client.write(UNRECOGNIZED_NAME).onComplete(v -> client.close());
            } else {
              connect(target, hello);
            }
          }
        });
    client.resume();
  }

  private void cancelHelloTimer() {
    if (helloTimer != -1) {
      vertx.cancelTimer(helloTimer);
      helloTimer = -1;
    }
  }

  /** One try at an instance; on failure, the next try elsewhere while retries are left. */
  private void connect(TcpRoutes.Target target, Buffer first) {
    if (clientClosed) {
      return;
    }
    pick.excludedOf = target.pool().endpoints().keySet();
    Endpoint endpoint = target.picker().pick(pick);
    if (endpoint == null) {
      fail(
          lastFailure != null
              ? lastFailure
              : "no available instance of service " + target.pool().service().name());
      return;
    }
    pick.tried.add(endpoint.id());
    pick.excluded = null;
    InFlight.Lease attempt = inFlight.acquire(endpoint.id());
    connector
        .connect(endpoint.port(), endpoint.host())
        .onComplete(
            connected -> {
              if (connected.failed()) {
                attempt.release();
                ejections.failed(endpoint.id());
                stats.connectFailures.increment();
                lastFailure =
                    "cannot connect to instance "
                        + endpoint.id()
                        + " of service "
                        + target.pool().service().name()
                        + ": "
                        + connected.cause().getMessage();
                LOG.debug("TCP port {}: {}", port, lastFailure);
                if (retriesLeft-- > 0) {
                  connect(target, first);
                } else {
                  fail(lastFailure);
                }
                return;
              }
              ejections.succeeded(endpoint.id());
              NetSocket socket = connected.result();
              if (clientClosed) {
                attempt.release();
                socket.close();
                return;
              }
              lease = attempt;
              backend = socket;
              openToInstance = stats.instance(endpoint.id());
              openToInstance.increment();
              backend.pause();
              backend.exceptionHandler(
                  e ->
                      LOG.debug("TCP port {}: instance {}: {}", port, endpoint.id(), e.toString()));
              backend.closeHandler(
                  v -> {
                    backendClosed = true;
                    closed();
                  });
              if (first != null && first.length() > 0) {
                stats.bytesToInstances.add(first.length());
                backend.write(first);
              }
              new Relay(client, backend, stats.bytesToInstances).start();
              new Relay(backend, client, stats.bytesToClients).start();
            });
  }

  /** Closes the client without having reached an instance. */
  private void fail(String reason) {
    LOG.debug("TCP port {}: client {} closed: {}", port, client.remoteAddress(), reason);
    stats.failed.increment();
    client.close();
  }

  /** One side closed: the relays end the other; once both are closed the connection is done. */
  private void closed() {
    if (clientClosed && backendClosed) {
      finish();
    }
  }

  private void finish() {
    if (finished) {
      return;
    }
    finished = true;
    cancelHelloTimer();
    stats.open.decrement();
    if (openToInstance != null) {
      openToInstance.decrement();
    }
    if (lease != null) {
      lease.release();
    }
  }

  /** The picker's view of a connection: the client's address, and the instances not to pick. */
  private final class Pick implements PickContext {
    final Set<String> tried = new HashSet<>(2);
    Set<String> excludedOf;
    Set<String> excluded;

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
      if (excluded == null) {
        excluded = ejections.excluding(excludedOf, tried);
      }
      return excluded;
    }
  }
}
