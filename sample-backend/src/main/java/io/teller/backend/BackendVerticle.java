package io.teller.backend;

import io.teller.backend.registration.RegistryLink;
import io.teller.backend.registration.SelfRegistration;
import io.teller.common.config.CommonSettings;
import io.teller.common.config.TellerConfig;
import io.teller.common.launch.Listeners;
import io.teller.common.model.Instance;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sample backend: a small HTTP service that registers itself, says which instance answered,
 * and drains on stop.
 *
 * <ul>
 *   <li>{@code GET /}: who answered ({@code instance}, {@code service}, {@code address}), its
 *       counters and the {@code X-Forwarded-*} / {@code Forwarded} headers it received;
 *   <li>{@code GET /work?ms=N&status=S}: answers status S (default 200) after N ms, on a timer;
 *   <li>{@code GET /health}: 200 {@code ok}, 503 {@code draining} once stopping;
 *   <li>{@code GET /stats}: {@code served}, {@code waited}, {@code maxInFlight}...;
 *   <li>{@code /ws}: a WebSocket that echoes every message.
 * </ul>
 *
 * <p>Requests other than {@code /health}, {@code /stats} and {@code /ws} go through a {@link
 * Window} of {@code backend.concurrency} places. On stop it deregisters with drain (the balancers
 * stop sending), keeps serving until no request is open or {@code backend.drain.ms} has passed,
 * then closes the server.
 */
public final class BackendVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger("teller.backend");
  private static final int MAX_WORK_MS = 600_000;

  private final TellerConfig config;
  private final Function<Vertx, RegistryLink> links;
  private final String service;
  private Window window;
  private HttpServer server;
  private SelfRegistration registration;
  private String address;
  private boolean draining;

  /**
   * @param config the backend's configuration
   * @param links makes the link to the registry on this verticle's Vert.x (over the event bus or
   *     REST)
   */
  public BackendVerticle(TellerConfig config, Function<Vertx, RegistryLink> links) {
    this.config = config;
    this.links = links;
    this.service = config.string(BackendSettings.SERVICE);
  }

  @Override
  public Future<?> start() {
    window = new Window(config.integer(BackendSettings.CONCURRENCY));
    String listenHost = config.string(CommonSettings.LISTEN_HOST);
    return Listeners.announce(
            vertx.createHttpServer().requestHandler(this::handle)
                .listen(config.integer(BackendSettings.PORT), listenHost),
            LOG, "sample backend", "http", listenHost, "/")
        .compose(s -> {
          server = s;
          String host = advertisedHost(config);
          address = host + ":" + s.actualPort();
          registration = new SelfRegistration(vertx, links.apply(vertx), service,
              new Instance.Registration(host, s.actualPort(), config.integer(BackendSettings.WEIGHT),
                  Map.of(), config.integer(BackendSettings.TTL)));
          return registration.start();
        });
  }

  @Override
  public Future<?> stop() {
    draining = true;
    long drainMs = config.integer(BackendSettings.DRAIN_MS);
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drainMs);
    Future<Void> deregistered = registration == null ? Future.succeededFuture() : registration.stop();
    return deregistered
        .compose(v -> {
          long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
          if (window.open() > 0) {
            LOG.info("draining: {} request(s) open, waiting up to {} ms", window.open(), left);
          }
          return window.idle().timeout(left, TimeUnit.MILLISECONDS).recover(timedOut -> {
            LOG.warn("drain time of {} ms is over with {} request(s) still open; closing", drainMs,
                window.open());
            return Future.succeededFuture();
          });
        })
        .compose(v -> server == null ? Future.succeededFuture() : server.close())
        .onComplete(v -> LOG.info("sample backend stopped after serving {} request(s)", window.served()));
  }

  /** The bound HTTP port (useful when configured with 0, a free port). */
  public int actualPort() {
    return server.actualPort();
  }

  /** This instance's id in the registry (derived from service, advertised host and port). */
  public String instanceId() {
    return registration == null ? "" : registration.id();
  }

  /** The host the registry advertises: {@code advertise.host}, or else {@code cluster.host}. */
  static String advertisedHost(TellerConfig config) {
    String host = config.string(BackendSettings.ADVERTISE_HOST);
    return host.isEmpty() ? config.string(CommonSettings.CLUSTER_HOST) : host;
  }

  private void handle(HttpServerRequest request) {
    switch (request.path()) {
      case "/health" -> request.response().setStatusCode(draining ? 503 : 200)
          .putHeader("content-type", "text/plain").end(draining ? "draining\n" : "ok\n");
      case "/stats" -> json(request.response(), 200, stats());
      case "/ws" -> echo(request);
      default -> window.admit(request, this::serve);
    }
  }

  private void serve(HttpServerRequest request) {
    switch (request.path()) {
      case "/" -> json(request.response(), 200, stats()
          .put("instance", instanceId())
          .put("service", service)
          .put("address", address)
          .put("forwarded", forwarded(request)));
      case "/work" -> work(request);
      default -> json(request.response(), 404,
          new JsonObject().put("error", "no such path: " + request.path()));
    }
  }

  private JsonObject stats() {
    return new JsonObject()
        .put("served", window.served())
        .put("waited", window.waited())
        .put("inFlight", window.inFlight())
        .put("queued", window.queued())
        .put("maxInFlight", window.maxInFlight())
        .put("concurrency", window.limit())
        .put("draining", draining);
  }

  /** The proxy headers as received, names in lower case, repeated ones joined by commas. */
  private static JsonObject forwarded(HttpServerRequest request) {
    JsonObject forwarded = new JsonObject();
    for (String name : request.headers().names()) {
      String lower = name.toLowerCase(Locale.ROOT);
      if (lower.equals("forwarded") || lower.startsWith("x-forwarded-")) {
        forwarded.put(lower, String.join(", ", request.headers().getAll(name)));
      }
    }
    return forwarded;
  }

  private void work(HttpServerRequest request) {
    HttpServerResponse response = request.response();
    int ms;
    int status;
    try {
      ms = intParam(request, "ms", 0, 0, MAX_WORK_MS);
      status = intParam(request, "status", 200, 200, 599);
    } catch (IllegalArgumentException e) {
      json(response, 400, new JsonObject().put("error", e.getMessage()));
      return;
    }
    JsonObject body = new JsonObject().put("instance", instanceId()).put("ms", ms).put("status", status);
    if (ms == 0) {
      json(response, status, body);
      return;
    }
    // A timer, not a sleep: the event loop serves others meanwhile.
    vertx.setTimer(ms, t -> {
      if (!response.closed()) {
        json(response, status, body);
      }
    });
  }

  private static int intParam(HttpServerRequest request, String name, int fallback, int min, int max) {
    String raw = request.getParam(name);
    if (raw == null || raw.isEmpty()) {
      return fallback;
    }
    try {
      int value = Integer.parseInt(raw);
      if (value >= min && value <= max) {
        return value;
      }
    } catch (NumberFormatException e) {
      // Reported below, with the range.
    }
    throw new IllegalArgumentException(name + " must be an integer from " + min + " to " + max);
  }

  private static void json(HttpServerResponse response, int status, JsonObject body) {
    response.setStatusCode(status);
    if (status == 204 || status == 304) {
      response.end();
    } else {
      response.putHeader("content-type", "application/json").end(body.encode());
    }
  }

  private static void echo(HttpServerRequest request) {
    if (!request.canUpgradeToWebSocket()) {
      json(request.response(), 400, new JsonObject().put("error", "/ws is a WebSocket: send an upgrade"));
      return;
    }
    request.toWebSocket().onSuccess(BackendVerticle::echo);
  }

  private static void echo(ServerWebSocket ws) {
    ws.textMessageHandler(ws::writeTextMessage);
    ws.binaryMessageHandler(ws::writeBinaryMessage);
  }
}
