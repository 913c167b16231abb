package io.teller.balancer;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.teller.balancer.proxy.AccessLog;
import io.teller.common.auth.ApiToken;
import io.teller.common.config.CommonSettings;
import io.teller.common.config.TellerConfig;
import io.teller.common.launch.Listeners;
import io.teller.common.model.RegistryFailure;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.micrometer.PrometheusRequestHandler;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The balancer's admin listener on {@code admin.port}, bound to {@code admin.host} ({@code
 * listen.host} when empty): {@code /healthz} (200 once it holds a registry snapshot), {@code
 * /metrics} (Prometheus text), {@code /counts} (in-flight counts as JSON), {@code /tcp} (L4
 * listeners) and {@code /access-log} (read or switch the access log).
 *
 * <p>Reads are open; every other method needs {@code Authorization: Bearer <api.token>}, whatever
 * the caller's address: a balancer can be made to call its own admin port through a registered
 * instance, so a loopback caller proves nothing.
 */
public final class AdminVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger("teller.balancer");

  private final TellerConfig config;
  private final IntSupplier memberCount;
  private final BooleanSupplier holdsSnapshot;
  private final Supplier<JsonObject> counts;
  private final PrometheusMeterRegistry meters;
  private final AccessLog accessLog;
  private final Supplier<JsonObject> tcp;
  private HttpServer server;

  /**
   * @param memberCount the cluster's member count, for {@code /healthz}
   * @param holdsSnapshot whether the registry's state has been received (healthy only then)
   * @param counts in-flight counts per instance, for {@code /counts}
   * @param tcp the L4 listeners' figures, for {@code /tcp}
   * @param meters what {@code /metrics} shows
   * @param accessLog switched by {@code PUT /access-log}
   */
  public AdminVerticle(
      TellerConfig config,
      IntSupplier memberCount,
      BooleanSupplier holdsSnapshot,
      Supplier<JsonObject> counts,
      Supplier<JsonObject> tcp,
      PrometheusMeterRegistry meters,
      AccessLog accessLog) {
    this.meters = meters;
    this.accessLog = accessLog;
    this.config = config;
    this.memberCount = memberCount;
    this.holdsSnapshot = holdsSnapshot;
    this.counts = counts;
    this.tcp = tcp;
  }

  /** An RFC 9457 problem answer, shaped like the registry's. */
  private static void problem(
      HttpServerResponse response, int status, String title, String detail, String field) {
    response
        .setStatusCode(status)
        .putHeader("content-type", "application/problem+json")
        .end(RegistryFailure.problem(status, title, detail, field).encode());
  }

  /** Lets reads through; anything else only with the token, before any of its body is read. */
  private static void authorize(ApiToken token, RoutingContext ctx) {
    HttpMethod method = ctx.request().method();
    String authorization = ctx.request().getHeader("authorization");
    if (method == HttpMethod.GET || method == HttpMethod.HEAD || token.accepts(authorization)) {
      ctx.next();
      return;
    }
    ctx.response().putHeader("www-authenticate", "Bearer realm=\"teller\"");
    problem(
        ctx.response(),
        401,
        "Unauthorized",
        authorization == null
            ? "admin writes need Authorization: Bearer <token>"
            : "the bearer token is not valid",
        null);
  }

  @Override
  public Future<?> start() {
    String adminHost = config.string(BalancerSettings.ADMIN_HOST);
    String host = adminHost.isEmpty() ? config.string(CommonSettings.LISTEN_HOST) : adminHost;
    return vertx
        .executeBlocking(() -> ApiToken.from(config))
        .onSuccess(token -> LOG.info("admin API token {}", token.origin()))
        .compose(
            token ->
                Listeners.announce(
                    vertx
                        .createHttpServer()
                        .requestHandler(router(token))
                        .listen(config.integer(BalancerSettings.ADMIN_PORT), host),
                    LOG,
                    "balancer admin",
                    "http",
                    host,
                    "/healthz"))
        .onSuccess(listening -> server = listening);
  }

  /** The port the admin listener is bound to, once started. */
  public int actualPort() {
    return server.actualPort();
  }

  private Router router(ApiToken token) {
    Router router = Router.router(vertx);
    router.route().handler(ctx -> authorize(token, ctx));
    router
        .get("/healthz")
        .handler(
            ctx -> {
              boolean ready = holdsSnapshot.getAsBoolean();
              ctx.response().setStatusCode(ready ? 200 : 503);
              // No cluster name: it is all a Hazelcast member needs to join (no authentication in
              // the open-source edition), and /healthz is open to whoever reaches the port.
              ctx.json(
                  new JsonObject()
                      .put("status", ready ? "UP" : "WAITING_FOR_REGISTRY")
                      .put("members", memberCount.getAsInt()));
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
    return router;
  }
}
