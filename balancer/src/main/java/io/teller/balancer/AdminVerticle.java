package io.teller.balancer;

import io.teller.common.cluster.TellerCluster;
import io.teller.common.config.CommonSettings;
import io.teller.common.config.TellerConfig;
import io.teller.common.launch.Listeners;
import io.vertx.core.Future;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The balancer's admin listener on {@code admin.port}: {@code /healthz} (200 once it holds a
 * registry snapshot), {@code /counts} (in-flight per instance) and {@code /tcp} (L4 listeners).
 */
public final class AdminVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger("teller.balancer");

  private final TellerConfig config;
  private final TellerCluster cluster;
  private final BooleanSupplier holdsSnapshot;
  private final Supplier<JsonObject> counts;
  private final Supplier<JsonObject> tcp;

  /**
   * @param holdsSnapshot whether the registry's state has been received (healthy only then)
   * @param counts in-flight counts per instance, for {@code /counts}
   * @param tcp the L4 listeners' figures, for {@code /tcp}
   */
  public AdminVerticle(TellerConfig config, TellerCluster cluster, BooleanSupplier holdsSnapshot,
      Supplier<JsonObject> counts, Supplier<JsonObject> tcp) {
    this.config = config;
    this.cluster = cluster;
    this.holdsSnapshot = holdsSnapshot;
    this.counts = counts;
    this.tcp = tcp;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.get("/healthz").handler(ctx -> {
      boolean ready = holdsSnapshot.getAsBoolean();
      ctx.response().setStatusCode(ready ? 200 : 503);
      ctx.json(new JsonObject()
          .put("status", ready ? "UP" : "WAITING_FOR_REGISTRY")
          .put("cluster", cluster.options().name())
          .put("members", cluster.memberCount()));
    });
    router.get("/counts").handler(ctx -> ctx.json(counts.get()));
    router.get("/tcp").handler(ctx -> ctx.json(tcp.get()));
    String host = config.string(CommonSettings.LISTEN_HOST);
    return Listeners.announce(
        vertx.createHttpServer().requestHandler(router)
            .listen(config.integer(BalancerSettings.ADMIN_PORT), host),
        LOG, "balancer admin", "http", host, "/healthz");
  }
}
