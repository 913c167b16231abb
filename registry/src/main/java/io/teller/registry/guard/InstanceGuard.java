package io.teller.registry.guard;

import io.teller.common.cluster.TellerCluster;
import io.teller.common.model.Instance;
import io.teller.common.model.RegistryFailure;
import io.teller.common.model.Service;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.net.SocketAddress;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

/**
 * Where the registry lets instances point: the one check of an instance's address, made at the API
 * edge for every registration ({@link #admit}) and again by the health checker before each probe
 * ({@link #target}), on the addresses the host resolves to at that moment.
 *
 * <p>An address is refused when it is a cluster member's own listener ({@link ClusterPorts}: a
 * balancer made to call its own admin port through a registered instance would take anyone's
 * requests as its own), when the operator's ranges refuse it ({@link AddressRules}), and a host
 * whose name resolves to several addresses is refused if any one is (the balancer may connect to
 * any). A numeric host that is not a plain dotted quad ({@code 2130706433}, {@code 017.0.0.1}) is
 * refused outright: resolvers disagree on what it means (Java reads {@code 017} as 17, the C
 * library as octal 15), so what is checked might not be what is connected to.
 *
 * <p>Names are resolved with the JDK's resolver on a small worker pool of its own, so that a slow
 * DNS server holds neither an event loop nor the workers that read the registry's maps.
 */
public final class InstanceGuard {

  /** How many names are resolved at once. */
  private static final int RESOLVER_THREADS = 4;

  /** How long the health checker may use the members' ports it read last. */
  private static final long PORTS_MAX_AGE_NANOS = 1_000_000_000L;

  private static final Pattern NUMERIC_LAST_LABEL = Pattern.compile("(?i)(\\d+|0x[0-9a-f]*)\\.?");
  private static final Pattern DOTTED_QUAD =
      Pattern.compile(
          "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");

  private final Vertx vertx;
  private final TellerCluster cluster;
  private final Callable<List<Service>> services;
  private final AddressRules rules;
  private final WorkerExecutor resolver;
  private volatile CachedPorts cached;

  private record CachedPorts(ClusterPorts ports, long readAtNanos) {}

  /** An address the registry will not let an instance have, naming the field at fault. */
  public static final class Refused extends RuntimeException {
    private final String field;

    Refused(String field, String detail) {
      super(detail, null, false, false);
      this.field = field;
    }

    /** {@code host} or {@code port}. */
    public String field() {
      return field;
    }
  }

  /**
   * @param services reads the services with a {@code tcpPort} (others may be included); called on a
   *     worker, for every registration
   */
  public InstanceGuard(
      Vertx vertx, TellerCluster cluster, Callable<List<Service>> services, AddressRules rules) {
    this.vertx = vertx;
    this.cluster = cluster;
    this.services = services;
    this.rules = rules;
    this.resolver =
        vertx.createSharedWorkerExecutor(
            "teller-registry-resolver-" + UUID.randomUUID(), RESOLVER_THREADS);
  }

  /** Lets go of the resolver's threads. */
  public Future<Void> close() {
    return resolver.close();
  }

  /**
   * Succeeds once {@code registration}'s address passes; a refused address fails it as invalid at
   * {@code host} or {@code port} (400), a host that does not resolve as invalid at {@code host}.
   */
  public Future<Void> admit(Instance.Registration registration) {
    String host = registration.host();
    return check(host, registration.port(), false)
        .<Void>mapEmpty()
        .recover(failure -> Future.failedFuture(asRegistryFailure(failure, host)));
  }

  private static Throwable asRegistryFailure(Throwable failure, String host) {
    if (failure instanceof Refused refused) {
      return RegistryFailure.invalid(refused.field(), refused.getMessage());
    }
    if (failure instanceof UnknownHostException) {
      return RegistryFailure.invalid("host", host + " does not resolve to an address");
    }
    return failure;
  }

  /**
   * The address to connect to for {@code host:port} now: the first one {@code host} resolves to,
   * once every one passes. Fails with {@link Refused} when one is refused, and with the resolver's
   * failure when the name does not resolve.
   */
  public Future<InetAddress> target(String host, int port) {
    return check(host, port, true);
  }

  /** Completes on the caller's context (the health checker's state is confined to it). */
  private Future<InetAddress> check(String host, int port, boolean recentPortsWillDo) {
    Context caller = vertx.getOrCreateContext();
    CachedPorts recent = cached;
    Future<List<SocketAddress>> eventBuses =
        recentPortsWillDo
                && recent != null
                && System.nanoTime() - recent.readAtNanos() < PORTS_MAX_AGE_NANOS
            ? Future.succeededFuture(null)
            : on(caller, cluster.eventBusAddresses());
    // executeBlocking delivers its result on the context it is called from.
    return eventBuses.compose(
        buses ->
            resolver.executeBlocking(
                () -> {
                  refuseAmbiguousNumbers(host);
                  InetAddress[] addresses = InetAddress.getAllByName(host);
                  ClusterPorts ports = buses == null ? recent.ports() : readPorts(buses);
                  for (InetAddress address : addresses) {
                    String denied = rules.refusal(address).orElse(null);
                    if (denied != null) {
                      throw new Refused("host", refusedBecause(host, address, denied));
                    }
                    String own = ports.refusal(address, port).orElse(null);
                    if (own != null) {
                      throw new Refused("port", refusedBecause(host, address, own));
                    }
                  }
                  return addresses[0];
                },
                false));
  }

  /** {@code future}'s outcome, delivered on {@code context} whichever thread completed it. */
  private static <T> Future<T> on(Context context, Future<T> future) {
    Promise<T> delivered = Promise.promise();
    future.onComplete(
        done -> {
          if (Vertx.currentContext() == context) {
            delivered.handle(done);
          } else {
            context.runOnContext(v -> delivered.handle(done));
          }
        });
    return delivered.future();
  }

  private ClusterPorts readPorts(List<SocketAddress> eventBuses) throws Exception {
    ClusterPorts ports =
        ClusterPorts.of(cluster.hazelcast().getCluster().getMembers(), eventBuses, services.call());
    cached = new CachedPorts(ports, System.nanoTime());
    return ports;
  }

  private static String refusedBecause(String host, InetAddress address, String why) {
    boolean literal = host.contains(":") || DOTTED_QUAD.matcher(host).matches();
    return literal
        ? "refused: " + why
        : "refused: " + host + " resolves to " + address.getHostAddress() + ", and " + why;
  }

  private static void refuseAmbiguousNumbers(String host) {
    if (host.contains(":")) {
      return; // IPv6: one reading only
    }
    int dot = host.endsWith(".") ? host.lastIndexOf('.', host.length() - 2) : host.lastIndexOf('.');
    String last = host.substring(dot + 1);
    if (NUMERIC_LAST_LABEL.matcher(last).matches() && !DOTTED_QUAD.matcher(host).matches()) {
      throw new Refused(
          "host",
          "a numeric address must be four decimal numbers 0-255 without leading zeros"
              + " (resolvers read other forms differently)");
    }
  }
}
