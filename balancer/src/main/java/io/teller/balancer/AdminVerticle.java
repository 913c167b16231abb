package io.teller.balancer;

import io.teller.common.cluster.TellerCluster;
import io.teller.common.config.CommonSettings;
import io.teller.common.config.TellerConfig;
import io.teller.common.launch.Listeners;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The balancer's admin listener on {@code admin.port}: {@code /healthz}. */
public final class AdminVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger("teller.balancer");

  private final TellerConfig config;
  private final TellerCluster cluster;

  public AdminVerticle(TellerConfig config, TellerCluster cluster) {
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
            .listen(config.integer(BalancerSettings.ADMIN_PORT), host),
        LOG, "balancer admin", "http", host, "/healthz");
  }
}
