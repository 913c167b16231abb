package io.teller.balancer;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.teller.balancer.proxy.AccessLog;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.config.CommonSettings;
import io.teller.common.config.TellerConfig;
import io.teller.common.launch.Listeners;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.PrometheusRequestHandler;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The balancer's admin listener on {@code admin.port}: {@code /healthz} (200 once it holds a
 * registry snapshot), {@code /metrics} (Prometheus text), {@code /counts} (in-flight counts as
 * JSON), {@code /tcp} (L4 listeners) and {@code /access-log} (read or switch the access log).
 */
public final class AdminVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger("teller.balancer");

  private final TellerConfig config;
  private final TellerCluster cluster;
  private final BooleanSupplier holdsSnapshot;
  private final Supplier<JsonObject> counts;
  private final PrometheusMeterRegistry meters;
  private final AccessLog accessLog;
  private final Supplier<JsonObject> tcp;

  /**
   * @param holdsSnapshot whether the registry's state has been received (healthy only then)
   * @param counts in-flight counts per instance, for {@code /counts}
   * @param tcp the L4 listeners' figures, for {@code /tcp}
   * @param meters what {@code /metrics} shows
   * @param accessLog switched by {@code PUT /access-log}
   */
  public AdminVerticle(
      TellerConfig config,
      TellerCluster cluster,
      BooleanSupplier holdsSnapshot,
      Supplier<JsonObject> counts,
      Supplier<JsonObject> tcp,
      PrometheusMeterRegistry meters,
      AccessLog accessLog) {
    this.meters = meters;
    this.accessLog = accessLog;
    this.config = config;
    this.cluster = cluster;
    this.holdsSnapshot = holdsSnapshot;
    this.counts = counts;
    this.tcp = tcp;
  }

  /** An RFC 9457 problem answer, shaped like the registry's. */
  private static void problem(
      io.vertx.core.http.HttpServerResponse response,
      int status,
      String title,
      String detail,
      String field) {
    JsonObject body =
        new JsonObject()
            .put("type", "about:blank")
            .put("title", title)
            .put("status", status)
            .put("detail", detail);
    if (field != null) {
      body.put("field", field);
    }
    response
        .setStatusCode(status)
        .putHeader("content-type", "application/problem+json")
        .end(body.encode());
  }

  private static boolean fromLoopback(HttpServerRequest request) {
    String address = request.remoteAddress() == null ? null : request.remoteAddress().hostAddress();
    return address != null
        && (address.startsWith("127.")
            || address.equals("::1")
            || address.equals("0:0:0:0:0:0:0:1"));
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router
        .get("/healthz")
        .handler(
            ctx -> {
              boolean ready = holdsSnapshot.getAsBoolean();
              ctx.response().setStatusCode(ready ? 200 : 503);
              ctx.json(
                  new JsonObject()
                      .put("status", ready ? "UP" : "WAITING_FOR_REGISTRY")
                      .put("cluster", cluster.options().name())
                      .put("members", cluster.memberCount()));
            });
    router.get("/counts").handler(ctx -> ctx.json(counts.get()));
    Handler<HttpServerRequest> prometheus = PrometheusRequestHandler.create(meters);
    router.get("/metrics").handler(ctx -> prometheus.handle(ctx.request()));
    router
        .get("/access-log")
        .handler(ctx -> ctx.json(new JsonObject().put("enabled", accessLog.enabled())));
    router
        .put("/access-log")
        .handler(
            ctx -> {
              if (!fromLoopback(ctx.request())) {
                // The admin surface is not open to the world: switches are thrown from the machine
                // itself.
                problem(
                    ctx.response(),
                    403,
                    "Forbidden",
                    "the access log is switched from the balancer's own machine (loopback) only",
                    null);
                return;
              }
              String enabled = ctx.request().getParam("enabled");
              if (!"true".equals(enabled) && !"false".equals(enabled)) {
                problem(
                    ctx.response(),
                    400,
                    "Bad Request",
                    "query parameter enabled must be true or false",
                    "enabled");
                return;
              }
              accessLog.enable(Boolean.parseBoolean(enabled));
              LOG.info("access log {}", accessLog.enabled() ? "on" : "off");
              ctx.json(new JsonObject().put("enabled", accessLog.enabled()));
            });
    router.get("/tcp").handler(ctx -> ctx.json(tcp.get()));
    String host = config.string(CommonSettings.LISTEN_HOST);
    return Listeners.announce(
        vertx
            .createHttpServer()
            .requestHandler(router)
            .listen(config.integer(BalancerSettings.ADMIN_PORT), host),
        LOG,
        "balancer admin",
        "http",
        host,
        "/healthz");
  }
}
