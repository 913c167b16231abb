package io.teller.balancer;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.teller.balancer.counting.InFlight;
import io.teller.balancer.counting.LoadSharing;
import io.teller.balancer.edge.EdgeLimits;
import io.teller.balancer.edge.EdgeRejections;
import io.teller.balancer.metrics.ProxyMetrics;
import io.teller.balancer.metrics.SlowStartMetrics;
import io.teller.balancer.metrics.TcpMetrics;
import io.teller.balancer.metrics.TrafficReporter;
import io.teller.balancer.proxy.AccessLog;
import io.teller.balancer.proxy.ProxyHandler;
import io.teller.balancer.proxy.ProxyVerticle;
import io.teller.balancer.resilience.Ejections;
import io.teller.balancer.resilience.Resilience;
import io.teller.balancer.resilience.RetryBudget;
import io.teller.balancer.routing.RegistryView;
import io.teller.balancer.routing.Routing;
import io.teller.balancer.tcp.ListenerSpec;
import io.teller.balancer.tcp.TcpOptions;
import io.teller.balancer.tcp.TcpRouter;
import io.teller.balancer.tcp.TcpVerticle;
import io.teller.balancer.tcp.Transports;
import io.teller.balancer.tls.CertificatePair;
import io.teller.balancer.tls.DevelopmentCertificate;
import io.teller.balancer.tls.TlsOptions;
import io.teller.common.auth.ApiToken;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.config.CommonSettings;
import io.teller.common.config.ConfigException;
import io.teller.common.config.TellerConfig;
import io.teller.common.launch.Listeners;
import io.teller.common.model.SlowStart;
import io.teller.common.net.Cidr;
import io.teller.common.net.CidrSet;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The balancer: keeps a local view of the registry, and deploys one {@link ProxyVerticle} (L7) per
 * event loop and the {@link TcpVerticle} (L4 listeners, whose connections spread over as many event
 * loops) for the data plane, and the admin listener.
 */
public final class BalancerVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger("teller.balancer");

  private final TellerConfig config;
  private final TellerCluster cluster;
  private final AtomicReference<Routing> routing = new AtomicReference<>(Routing.waiting());
  private final InFlight inFlight = new InFlight();
  private final Resilience resilience;
  private final AccessLog accessLog;
  private final PrometheusMeterRegistry meters;
  private final ProxyMetrics metrics;
  private final SlowStartMetrics slowStartMetrics;
  // Each listener's open connections, shared by every event loop: the edge's cap counts them, and
  // teller_client_connections reads them.
  private final AtomicInteger httpsConnections = new AtomicInteger();
  private final AtomicInteger httpConnections = new AtomicInteger();
  private RegistryView view;
  private LoadSharing sharing;
  private TrafficReporter traffic;
  private long sweepTimer = -1;
  private TcpRouter tcp;
  private TcpMetrics tcpMetrics;

  /** A balancer with meters of its own. */
  public BalancerVerticle(TellerConfig config, TellerCluster cluster) {
    this(config, cluster, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  /**
   * @param meters where the balancer's meters go, and what {@code /metrics} shows (the program
   *     passes the registry that also holds Vert.x's own meters)
   */
  public BalancerVerticle(
      TellerConfig config, TellerCluster cluster, PrometheusMeterRegistry meters) {
    this.config = config;
    this.cluster = cluster;
    this.meters = meters;
    this.accessLog = new AccessLog(config.bool(BalancerSettings.ACCESS_LOG));
    this.metrics =
        new ProxyMetrics(meters, inFlight, () -> httpsConnections.get() + httpConnections.get());
    // One policy for L7 requests and L4 connections: one retry budget, one ejection state.
    this.resilience =
        new Resilience(
            new Ejections(
                config.integer(BalancerSettings.EJECT_CONNECT_FAILURES),
                config.integer(BalancerSettings.EJECT_SERVER_ERRORS)),
            new RetryBudget(
                config.integer(BalancerSettings.RETRY_BUDGET_PERCENT),
                config.integer(BalancerSettings.RETRY_BUDGET_MIN_PER_SECOND)),
            metrics,
            config.integer(BalancerSettings.RETRIES));
    this.slowStartMetrics = new SlowStartMetrics(meters, routing::get, InstantSource.system());
  }

  @Override
  public Future<?> start() {
    LOG.info("transport: {}", Transports.inUse(vertx));
    sharing =
        new LoadSharing(
            vertx,
            inFlight,
            cluster::memberId,
            cluster.hazelcast(),
            config.integer(BalancerSettings.COUNTS_DELAY_MS));
    List<ListenerSpec> tcpListeners =
        config.list(BalancerSettings.TCP_LISTENERS, ListenerSpec.class);
    Set<Integer> ownPorts =
        new java.util.HashSet<>(
            List.of(
                config.integer(BalancerSettings.HTTPS_PORT),
                config.integer(BalancerSettings.HTTP_PORT),
                config.integer(BalancerSettings.ADMIN_PORT)));
    for (ListenerSpec spec : tcpListeners) {
      if (ownPorts.contains(spec.port())) {
        return Future.failedFuture(
            ConfigException.badValue(
                BalancerSettings.TCP_LISTENERS,
                BalancerSettings.TCP_LISTENERS.type().display(tcpListeners),
                "port " + spec.port() + " is the balancer's HTTPS, HTTP or admin port"));
      }
    }
    tcp = new TcpRouter(tcpListeners, ownPorts, inFlight, sharing);
    tcpMetrics = new TcpMetrics(meters, tcp.stats());
    view =
        new RegistryView(
            vertx,
            inFlight,
            sharing,
            config.integer(BalancerSettings.RECONCILE_MS),
            next -> {
              routing.set(next);
              tcp.update(next);
              slowStartMetrics.bind(next);
            });
    // An instance back from an ejection is eased in again (slow start), from when it returns.
    Context viewContext = vertx.getOrCreateContext();
    resilience
        .ejections()
        .onEjected(
            (id, untilNanos) -> {
              long untilMillis =
                  System.currentTimeMillis() + (untilNanos - System.nanoTime()) / 1_000_000;
              viewContext.runOnContext(v -> view.ejected(id, untilMillis));
            });
    TcpOptions tcpOptions =
        new TcpOptions(
            config.string(CommonSettings.LISTEN_HOST),
            config.integer(BalancerSettings.CONNECT_TIMEOUT_MS),
            config.integer(BalancerSettings.TCP_IDLE_TIMEOUT_MS),
            config.integer(BalancerSettings.TCP_HELLO_TIMEOUT_MS));
    int instances =
        config.integer(BalancerSettings.INSTANCES) == 0
            ? Runtime.getRuntime().availableProcessors()
            : config.integer(BalancerSettings.INSTANCES);
    String host = config.string(CommonSettings.LISTEN_HOST);
    int httpsPort = config.integer(BalancerSettings.HTTPS_PORT);
    int httpPort = config.integer(BalancerSettings.HTTP_PORT);
    boolean redirect = config.bool(BalancerSettings.HTTP_REDIRECT);
    // One per balancer, shared by every event loop.
    EdgeRejections rejections = new EdgeRejections(metrics.registry(), accessLog::rejected);
    // The API token lets a client ask for X-Teller-Explain; the file is shared with the admin port.
    AtomicReference<ApiToken> token = new AtomicReference<>();
    traffic =
        new TrafficReporter(
            vertx,
            metrics,
            cluster::memberId,
            resilience.ejections()::ejectedAmong,
            this::openConnections);
    return tls()
        .compose(
            tls ->
                vertx
                    .executeBlocking(() -> ApiToken.from(config))
                    .map(
                        t -> {
                          token.set(t);
                          return tls;
                        }))
        .compose(tls -> sharing.start().map(tls))
        .onSuccess(tls -> traffic.start())
        .compose(tls -> view.start().map(tls))
        .compose(
            tls ->
                vertx.deployVerticle(
                    () ->
                        new ProxyVerticle(
                            new ProxyVerticle.Listeners(
                                host,
                                httpsPort,
                                httpPort,
                                redirect,
                                tls,
                                new ProxyHandler.Defaults(
                                    config.integer(BalancerSettings.CONNECT_TIMEOUT_MS),
                                    config.integer(BalancerSettings.RESPONSE_TIMEOUT_MS),
                                    config.integer(BalancerSettings.IDLE_TIMEOUT_MS)),
                                config.integer(BalancerSettings.CLIENT_IDLE_TIMEOUT_MS),
                                new EdgeLimits(
                                    config.integer(BalancerSettings.HTTP_MAX_REQUEST_LINE_BYTES),
                                    config.integer(BalancerSettings.HTTP_MAX_HEADER_BYTES),
                                    config.integer(BalancerSettings.HTTP_MAX_HEADER_FIELDS),
                                    config.integer(
                                        BalancerSettings.HTTP_REQUEST_HEADER_TIMEOUT_MS)),
                                config.integer(BalancerSettings.HTTP_MAX_CONNECTIONS),
                                new ProxyHandler.RequestRules(
                                    config.bool(
                                        BalancerSettings.HTTP_PATH_ALLOW_ENCODED_SEPARATORS),
                                    CidrSet.of(
                                        config.list(
                                            BalancerSettings.PROXY_TRUSTED_CIDRS, Cidr.class)))),
                            new ProxyVerticle.Shared(
                                routing::get,
                                inFlight,
                                resilience,
                                metrics,
                                accessLog,
                                rejections,
                                httpsConnections,
                                httpConnections,
                                sharing,
                                token.get())),
                    new DeploymentOptions().setInstances(instances)))
        .onSuccess(
            id -> {
              LOG.info(
                  "balancer HTTPS listening on {}", Listeners.url("https", host, httpsPort, "/"));
              LOG.info(
                  "balancer HTTP listening on {}{}",
                  Listeners.url("http", host, httpPort, "/"),
                  redirect ? " (redirects to HTTPS)" : "");
            })
        .compose(
            id ->
                // One: each port is bound once; its connections go to as many event loops.
                vertx.deployVerticle(
                    new TcpVerticle(tcpOptions, tcp, inFlight, resilience, instances)))
        .onSuccess(
            id ->
                tcpListeners.forEach(
                    spec ->
                        LOG.info(
                            "balancer TCP listening on {}:{} ({})",
                            host,
                            spec.port(),
                            spec.kind() == ListenerSpec.Kind.SNI
                                ? "TLS pass-through by server name"
                                : "service "
                                    + spec.service()
                                    + (spec.strategy() == null ? "" : ", " + spec.strategy()))))
        .onSuccess(id -> sweepTimer = vertx.setPeriodic(5_000, t -> sweep()))
        .compose(
            id ->
                vertx.deployVerticle(
                    new AdminVerticle(
                        config,
                        cluster::memberCount,
                        view::holdsSnapshot,
                        this::counts,
                        () -> tcp.stats().toJson(tcp.routes().specs()),
                        meters,
                        accessLog)));
  }

  /** Forgets the ejections and meters of instances that left, off the request path. */
  private void sweep() {
    Map<String, Set<String>> ids = new HashMap<>();
    Set<String> all = new java.util.HashSet<>();
    routing
        .get()
        .pools()
        .forEach(
            (name, pool) -> {
              ids.put(name, pool.endpoints().keySet());
              all.addAll(pool.endpoints().keySet());
            });
    resilience.sweep(all);
    metrics.retainOnly(ids);
    tcpMetrics.bind();
  }

  /** Client connections open now: HTTP(S) and L4. */
  private long openConnections() {
    long l4 = tcp.stats().listeners().values().stream().mapToLong(l -> l.open.sum()).sum();
    return metrics.clientConnections() + l4;
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(sweepTimer);
    return Future.join(
        traffic == null ? Future.succeededFuture() : traffic.stop(),
        view == null ? Future.succeededFuture() : view.stop(),
        sharing == null ? Future.succeededFuture() : sharing.stop());
  }

  /**
   * In-flight counts per instance: this balancer's, the others', and how stale theirs were; and
   * whether each is ejected and its slow-start factor here.
   */
  private JsonObject counts() {
    long now = System.currentTimeMillis();
    JsonObject instances = new JsonObject();
    // Instances that left the pick set still show while requests to them are open.
    inFlight
        .snapshot()
        .forEach(
            (id, count) -> {
              if (count > 0) {
                instances.put(id, new JsonObject().put("local", count));
              }
            });
    routing
        .get()
        .pools()
        .values()
        .forEach(
            pool ->
                pool.endpoints()
                    .keySet()
                    .forEach(
                        id -> {
                          JsonObject entry =
                              instances.getJsonObject(
                                  id, new JsonObject().put("local", inFlight.inFlight(id)));
                          JsonObject peers = new JsonObject();
                          sharing.board().byMember(id).forEach(peers::put);
                          instances.put(
                              id,
                              entry
                                  .put("peers", peers)
                                  .put("total", sharing.inFlight(id))
                                  .put("ejected", resilience.isEjected(id))
                                  .put(
                                      "slowStartFactor",
                                      SlowStart.rounded(pool.slowStartFactor(id, now))));
                        }));
    return new JsonObject()
        .put("member", cluster.memberId())
        .put("instances", instances)
        .put("peerStalenessMillis", sharing.stalenessMillis());
  }

  /** The configured certificate(s), or the generated development certificate. */
  private Future<TlsOptions> tls() {
    List<String> certs = split(config.string(BalancerSettings.TLS_CERT));
    List<String> keys = split(config.string(BalancerSettings.TLS_KEY));
    if (certs.size() != keys.size()) {
      return Future.failedFuture(
          ConfigException.badValue(
              BalancerSettings.TLS_KEY,
              config.string(BalancerSettings.TLS_KEY),
              "needs one key per certificate in tls.cert (" + certs.size() + ")"));
    }
    if (certs.isEmpty()) {
      Path dataDir = config.path(CommonSettings.DATA_DIR);
      return vertx
          .executeBlocking(() -> DevelopmentCertificate.ensure(dataDir))
          .onSuccess(
              dev ->
                  LOG.info(
                      "TLS: {} self-signed certificate for localhost {} (set tls.cert and "
                          + "tls.key for your own)",
                      dev.generated() ? "generated a" : "using the",
                      dev.certPath()))
          .map(dev -> TlsOptions.of(dev.pair()));
    }
    List<CertificatePair> pairs = new ArrayList<>();
    for (int i = 0; i < certs.size(); i++) {
      Path cert = Path.of(certs.get(i));
      Path key = Path.of(keys.get(i));
      if (!Files.isReadable(cert)) {
        return Future.failedFuture(
            ConfigException.badValue(BalancerSettings.TLS_CERT, cert, "cannot read the file"));
      }
      if (!Files.isReadable(key)) {
        return Future.failedFuture(
            ConfigException.badValue(BalancerSettings.TLS_KEY, key, "cannot read the file"));
      }
      pairs.add(new CertificatePair(cert, key));
    }
    return Future.succeededFuture(TlsOptions.of(pairs));
  }

  private static List<String> split(String value) {
    return value.isBlank()
        ? List.of()
        : Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }
}
