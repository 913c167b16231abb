package io.teller.registry;

import io.teller.common.cluster.TellerCluster;
import io.teller.common.config.CommonSettings;
import io.teller.common.config.TellerConfig;
import io.teller.common.launch.Listeners;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The registry: serves the REST API on {@code registry.port}. */
public final class RegistryVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger("teller.registry");

  private final TellerConfig config;
  private final TellerCluster cluster;
  private HttpServer server;

  public RegistryVerticle(TellerConfig config, TellerCluster cluster) {
    this.config = config;
    this.cluster = cluster;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.get("/healthz").handler(ctx -> ctx.json(new JsonObject()
        .put("status", "UP")
        .put("cluster", cluster.options().name())
        .put("members", cluster.memberCount())));
    String host = config.string(CommonSettings.LISTEN_HOST);
    return Listeners.announce(
            vertx.createHttpServer().requestHandler(router)
                .listen(config.integer(RegistrySettings.PORT), host),
            LOG, "registry API", "http", host, "/v1")
        .onSuccess(s -> server = s);
  }

  /** The bound port (useful when configured with a port picked at start). */
  public int actualPort() {
    return server.actualPort();
  }
}
