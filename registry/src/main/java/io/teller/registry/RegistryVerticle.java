package io.teller.registry;

import io.teller.common.cluster.TellerCluster;
import io.teller.common.config.CommonSettings;
import io.teller.common.config.TellerConfig;
import io.teller.common.launch.Listeners;
import io.teller.registry.api.ApiToken;
import io.teller.registry.api.BalancerLoads;
import io.teller.registry.api.OpenApiValidation;
import io.teller.registry.api.RestApi;
import io.teller.registry.bus.EventBusApi;
import io.teller.registry.core.HealthChecker;
import io.teller.registry.core.Maintenance;
import io.teller.registry.core.RegistryService;
import io.teller.registry.store.RegistryStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry: the REST and event-bus APIs over the cluster-held state, and the background
 * maintenance (TTL, drain, member-left) and health checks of the instances this node holds.
 */
public final class RegistryVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger("teller.registry");

  private final TellerConfig config;
  private final TellerCluster cluster;
  private RegistryService registry;
  private EventBusApi eventBusApi;
  private Maintenance maintenance;
  private HealthChecker healthChecker;
  private HttpServer server;
  private BalancerLoads loads;

  public RegistryVerticle(TellerConfig config, TellerCluster cluster) {
    this.config = config;
    this.cluster = cluster;
  }

  @Override
  public Future<?> start() {
    Clock clock = Clock.systemUTC();
    registry = new RegistryService(vertx, new RegistryStore(cluster.hazelcast()), cluster.memberId(), clock);
    eventBusApi = new EventBusApi(vertx, registry);
    healthChecker = new HealthChecker(vertx, registry);
    maintenance = new Maintenance(vertx, registry, clock, healthChecker::owned);

    String configuredToken = config.string(RegistrySettings.API_TOKEN);
    Future<ApiToken> token = configuredToken.isEmpty()
        ? vertx.executeBlocking(() -> ApiToken.fromDataDir(config.path(CommonSettings.DATA_DIR)))
            .onSuccess(t -> LOG.info("API token {} {}", t.generated() ? "generated into" : "read from", t.file()))
        : Future.succeededFuture(ApiToken.configured(configuredToken));
    Future<Buffer> openApi = vertx.fileSystem().readFile("openapi.yaml");
    Future<OpenApiValidation> validation = openApi.compose(doc -> OpenApiValidation.load(vertx, doc));

    String host = config.string(CommonSettings.LISTEN_HOST);
    loads = new BalancerLoads(vertx, cluster);
    return Future.all(token, openApi, validation, registry.start(), eventBusApi.start(), loads.start())
        .compose(ready -> {
          RestApi api = new RestApi(vertx, registry, token.result(), this::health, openApi.result(),
              validation.result(), loads);
          return Listeners.announce(
              vertx.createHttpServer().requestHandler(api.router())
                  .listen(config.integer(RegistrySettings.PORT), host),
              LOG, "registry API", "http", host, "/v1");
        })
        .onSuccess(s -> {
          server = s;
          maintenance.start();
          healthChecker.start();
        });
  }

  @Override
  public Future<?> stop() {
    if (maintenance != null) {
      maintenance.stop();
    }
    if (healthChecker != null) {
      healthChecker.stop();
    }
    return Future.join(
        server == null ? Future.succeededFuture() : server.close(),
        eventBusApi == null ? Future.succeededFuture() : eventBusApi.stop(),
        registry == null ? Future.succeededFuture() : registry.stop(),
        loads == null ? Future.succeededFuture() : loads.stop());
  }

  private JsonObject health() {
    return new JsonObject()
        .put("status", "UP")
        .put("cluster", cluster.options().name())
        .put("members", cluster.memberCount());
  }
}
