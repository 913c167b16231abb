package io.teller.registry;

import io.teller.common.auth.ApiToken;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.config.CommonSettings;
import io.teller.common.config.TellerConfig;
import io.teller.common.launch.Listeners;
import io.teller.common.net.Cidr;
import io.teller.registry.api.BalancerLoads;
import io.teller.registry.api.ChangeStream;
import io.teller.registry.api.OpenApiValidation;
import io.teller.registry.api.RestApi;
import io.teller.registry.bus.EventBusApi;
import io.teller.registry.core.Durability;
import io.teller.registry.core.HealthChecker;
import io.teller.registry.core.Maintenance;
import io.teller.registry.core.RegistryService;
import io.teller.registry.dashboard.Dashboard;
import io.teller.registry.guard.AddressRules;
import io.teller.registry.guard.InstanceGuard;
import io.teller.registry.store.LocalCopy;
import io.teller.registry.store.RegistryStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry: the REST and event-bus APIs over the cluster-held state, and the background
 * maintenance (TTL, drain, member-left) and health checks of the instances this node holds. Each
 * node keeps a copy of the state that outlives the cluster on its own disk ({@link Durability}).
 */
public final class RegistryVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger("teller.registry");

  /** This node's copy of the registry's state, under {@code data.dir}. */
  public static final String STATE_DIR = "registry";

  private final TellerConfig config;
  private final TellerCluster cluster;
  private Durability durability;
  private RegistryService registry;
  private EventBusApi eventBusApi;
  private Maintenance maintenance;
  private HealthChecker healthChecker;
  private HttpServer server;
  private BalancerLoads loads;
  private InstanceGuard guard;
  private ChangeStream changes;
  private Dashboard dashboard;

  public RegistryVerticle(TellerConfig config, TellerCluster cluster) {
    this.config = config;
    this.cluster = cluster;
  }

  @Override
  public Future<?> start() {
    Clock clock = Clock.systemUTC();
    Path dataDir = config.path(CommonSettings.DATA_DIR);

    Future<ApiToken> token =
        vertx
            .executeBlocking(() -> ApiToken.from(config))
            .onSuccess(t -> LOG.info("API token {}", t.origin()));
    Future<Buffer> openApi = vertx.fileSystem().readFile("openapi.yaml");
    Future<OpenApiValidation> validation =
        openApi.compose(doc -> OpenApiValidation.load(vertx, doc));

    // This node's copy on disk first: the cluster may have to be restored from it.
    Future<Void> state =
        vertx
            .executeBlocking(() -> LocalCopy.open(dataDir.resolve(STATE_DIR)))
            .compose(
                copy -> {
                  durability = new Durability(vertx, copy);
                  registry =
                      new RegistryService(
                          vertx,
                          new RegistryStore(cluster.hazelcast()),
                          cluster.memberId(),
                          clock,
                          durability);
                  guard =
                      new InstanceGuard(
                          vertx,
                          cluster,
                          registry.store()::tcpPortServices,
                          new AddressRules(
                              config.list(RegistrySettings.INSTANCES_ALLOW, Cidr.class),
                              config.list(RegistrySettings.INSTANCES_DENY, Cidr.class)));
                  eventBusApi = new EventBusApi(vertx, registry, guard);
                  healthChecker = new HealthChecker(vertx, registry, guard);
                  maintenance = new Maintenance(vertx, registry, clock, healthChecker::owned);
                  return registry
                      .start()
                      .compose(v -> durability.start())
                      .compose(v -> durability.join(registry))
                      .onSuccess(LOG::info)
                      .compose(v -> eventBusApi.start());
                });

    String host = config.string(CommonSettings.LISTEN_HOST);
    loads = new BalancerLoads(vertx, cluster);
    changes = new ChangeStream(vertx, config.integer(RegistrySettings.EVENTS_MAX_CLIENTS));
    // join, not all: on a failure the stop that follows must not race start-up work still under
    // way (its completion would find the event loops closed as the process exits).
    return Future.join(token, openApi, validation, state, loads.start(), changes.start())
        .compose(
            ready -> {
              dashboard =
                  new Dashboard(
                      vertx,
                      registry,
                      loads,
                      dashboardMaxClients(),
                      // The page is open to anyone: like /healthz, it never names the cluster.
                      () -> new JsonObject().put("node", cluster.memberId()));
              return dashboard.start();
            })
        .compose(
            ready -> {
              RestApi api =
                  new RestApi(
                      vertx,
                      registry,
                      guard,
                      token.result(),
                      this::health,
                      openApi.result(),
                      validation.result(),
                      loads,
                      changes);
              Router router = api.router();
              router.get(Readiness.PATH).handler(new Readiness(vertx, cluster.hazelcast())::handle);
              dashboard.mount(router);
              return Listeners.announce(
                  vertx
                      .createHttpServer()
                      .requestHandler(router)
                      .listen(config.integer(RegistrySettings.PORT), host),
                  LOG,
                  "registry API",
                  "http",
                  host,
                  "/v1");
            })
        .onSuccess(
            s -> {
              LOG.info(
                  "dashboard on {}", Listeners.url("http", host, s.actualPort(), "/dashboard/"));
              server = s;
              maintenance.start();
              healthChecker.start();
            })
        // Vert.x does not stop a verticle whose start failed: let go of the state directory here.
        .recover(failure -> stop().transform(stopped -> Future.failedFuture(failure)));
  }

  @Override
  public Future<?> stop() {
    if (healthChecker != null) {
      healthChecker.stop();
    }
    return Future.join(
            List.<Future<?>>of(
                maintenance == null ? Future.succeededFuture() : maintenance.stop(),
                server == null ? Future.succeededFuture() : server.close(),
                eventBusApi == null ? Future.succeededFuture() : eventBusApi.stop(),
                registry == null ? Future.succeededFuture() : registry.stop(),
                loads == null ? Future.succeededFuture() : loads.stop(),
                guard == null ? Future.succeededFuture() : guard.close(),
                changes == null ? Future.succeededFuture() : changes.stop(),
                dashboard == null ? Future.succeededFuture() : dashboard.stop()))
        // Last: a write the leader was still applying reaches this node's disk.
        .eventually(() -> durability == null ? Future.succeededFuture() : durability.stop());
  }

  /** The setting, or its default for configurations built in code that do not name it. */
  private int dashboardMaxClients() {
    return config.settings().contains(RegistrySettings.DASHBOARD_MAX_CLIENTS)
        ? config.integer(RegistrySettings.DASHBOARD_MAX_CLIENTS)
        : RegistrySettings.DEFAULT_DASHBOARD_MAX_CLIENTS;
  }

  /**
   * Liveness, open to anyone: the cluster's name stays out (it is what a Hazelcast member needs to
   * join, and the open-source edition has no other member authentication).
   */
  private JsonObject health() {
    return new JsonObject().put("status", "UP").put("members", cluster.memberCount());
  }
}
