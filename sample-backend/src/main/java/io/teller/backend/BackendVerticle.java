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
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sample backend: a small HTTP service that registers itself, says which instance answered, and
 * drains on stop.
 *
 * <ul>
 *   <li>{@code GET /}: who answered ({@code instance}, {@code service}, {@code address}), its
 *       counters and the {@code X-Forwarded-*} / {@code Forwarded} headers it received;
 *   <li>{@code GET|POST /work?ms=N&status=S}: reads the body (if any, counting its bytes), then
 *       answers status S (default 200) after N ms (plus the warm-up's delay, {@code warmupMs} in
 *       the answer), on a timer;
 *   <li>{@code POST /upload}: reads the body as it streams in, never holding it whole, and answers
 *       its length ({@code bytes}) and SHA-256 ({@code sha256}, hex);
 *   <li>{@code GET /download?bytes=N&seed=S}: streams N bytes of the {@link DownloadPattern} of
 *       seed S with back-pressure, chunked, with their SHA-256 in the {@code x-sha256} trailer;
 *   <li>{@code GET /health}: 200 {@code ok}, 503 {@code draining} once stopping;
 *   <li>{@code GET /stats}: {@code served}, {@code waited}, {@code maxInFlight}...;
 *   <li>{@code /ws}: a WebSocket that echoes every message.
 * </ul>
 *
 * <p>Every request other than a GET is logged when it arrives, with its {@code x-request-id}
 * header: {@code received POST /work id=...}, so that a test can tell which backend saw it.
 *
 * <p>Requests other than {@code /health}, {@code /stats} and {@code /ws} go through a {@link
 * Window} of {@code backend.concurrency} places. During the {@link Warmup} ({@code
 * backend.warmup.ms} after start) their answers come later, as from a cold JVM; the health check
 * and the stats are never slowed. On stop it deregisters with drain (the balancers stop sending),
 * keeps accepting for a second while the balancers learn it, serves until no request is open or
 * {@code backend.drain.ms} has passed, then closes the server.
 */
public final class BackendVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger("teller.backend");
  private static final int MAX_WORK_MS = 600_000;
  private static final long MAX_DOWNLOAD_BYTES = 1L << 40;

  /**
   * How long a stopping backend keeps accepting after the registry has it draining (at most {@code
   * backend.drain.ms}): the registry's change reaches the balancers over the event bus in
   * milliseconds; a second covers a loaded machine.
   */
  static final long PROPAGATION_GRACE_MS = 1_000;

  private final TellerConfig config;
  private final Function<Vertx, RegistryLink> links;
  private final String service;
  private Window window;
  private Warmup warmup;
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
    warmup =
        new Warmup(
            config.integer(BackendSettings.WARMUP_MS),
            config.integer(BackendSettings.WARMUP_DELAY_MS),
            System::nanoTime);
    String listenHost = config.string(CommonSettings.LISTEN_HOST);
    return Listeners.announce(
            vertx
                .createHttpServer()
                .requestHandler(this::handle)
                .listen(config.integer(BackendSettings.PORT), listenHost),
            LOG,
            "sample backend",
            "http",
            listenHost,
            "/")
        .compose(
            s -> {
              server = s;
              String host = advertisedHost(config);
              address = host + ":" + s.actualPort();
              registration =
                  new SelfRegistration(
                      vertx,
                      links.apply(vertx),
                      service,
                      new Instance.Registration(
                          host,
                          s.actualPort(),
                          config.integer(BackendSettings.WEIGHT),
                          Map.of(),
                          config.integer(BackendSettings.TTL)));
              return registration.start();
            });
  }

  @Override
  public Future<?> stop() {
    draining = true;
    long drainMs = config.integer(BackendSettings.DRAIN_MS);
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drainMs);
    Future<Void> deregistered =
        registration == null ? Future.succeededFuture() : registration.stop();
    return deregistered
        // The registry has it draining, but the balancers learn that a moment later: until then
        // they may still pick it, and a closed port would fail those requests (several backends
        // stopping at once can exhaust a request's retries). Serve on for that moment.
        .compose(
            v -> {
              long grace = Math.min(drainMs, PROPAGATION_GRACE_MS);
              return grace > 0 ? vertx.timer(grace) : Future.succeededFuture();
            })
        .compose(
            v -> {
              long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
              if (window.open() > 0) {
                LOG.info("draining: {} request(s) open, waiting up to {} ms", window.open(), left);
              }
              return window
                  .idle()
                  .timeout(left, TimeUnit.MILLISECONDS)
                  .recover(
                      timedOut -> {
                        LOG.warn(
                            "drain time of {} ms is over with {} request(s) still open; closing",
                            drainMs,
                            window.open());
                        return Future.succeededFuture();
                      });
            })
        .compose(v -> server == null ? Future.succeededFuture() : server.close())
        .onComplete(
            v -> LOG.info("sample backend stopped after serving {} request(s)", window.served()));
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
    if (request.method() != HttpMethod.GET) {
      // At arrival, before any queueing: proof of which backend a request reached.
      String id = request.getHeader("x-request-id");
      LOG.info("received {} {} id={}", request.method(), request.path(), id == null ? "-" : id);
    }
    switch (request.path()) {
      case "/health" ->
          request
              .response()
              .setStatusCode(draining ? 503 : 200)
              .putHeader("content-type", "text/plain")
              .end(draining ? "draining\n" : "ok\n");
      case "/stats" -> json(request.response(), 200, stats());
      case "/ws" -> echo(request);
      default -> window.admit(request, this::serve);
    }
  }

  private void serve(HttpServerRequest request) {
    // Measured as it enters the window, and added to its answer: the body is read meanwhile.
    long coldMs = warmup.delayMs();
    switch (request.path()) {
      case "/" ->
          later(
              request,
              coldMs,
              () ->
                  json(
                      request.response(),
                      200,
                      stats()
                          .put("instance", instanceId())
                          .put("service", service)
                          .put("address", address)
                          .put("forwarded", forwarded(request))));
      case "/work" -> work(request, coldMs);
      case "/upload" -> upload(request, coldMs);
      case "/download" -> later(request, coldMs, () -> download(request));
      default ->
          json(
              request.response(),
              404,
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

  /** Runs {@code answer} after {@code delayMs} (now if 0), unless the client left meanwhile. */
  private void later(HttpServerRequest request, long delayMs, Runnable answer) {
    if (delayMs == 0) {
      answer.run();
      return;
    }
    // A timer, not a sleep: the event loop serves others meanwhile.
    vertx.setTimer(
        delayMs,
        t -> {
          if (!request.response().closed()) {
            answer.run();
          }
        });
  }

  private void work(HttpServerRequest request, long coldMs) {
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
    long[] bodyBytes = {0};
    // Counted as it streams, not buffered: a POST body of any size is read and dropped.
    request.handler(chunk -> bodyBytes[0] += chunk.length());
    onEnd(
        request,
        () -> {
          JsonObject body =
              new JsonObject()
                  .put("instance", instanceId())
                  .put("ms", ms)
                  .put("status", status)
                  .put("bodyBytes", bodyBytes[0])
                  .put("warmupMs", coldMs);
          later(request, ms + coldMs, () -> json(response, status, body));
        });
  }

  private void upload(HttpServerRequest request, long coldMs) {
    if (request.method() != HttpMethod.POST) {
      request.response().putHeader("allow", "POST");
      json(request.response(), 405, new JsonObject().put("error", "/upload takes a POST"));
      return;
    }
    MessageDigest sha256 = DownloadPattern.newSha256();
    long[] bytes = {0};
    // Each chunk is hashed and dropped as it arrives: memory stays flat whatever the size.
    request.handler(
        chunk -> {
          bytes[0] += chunk.length();
          sha256.update(chunk.getBytes());
        });
    onEnd(
        request,
        () -> {
          JsonObject body =
              new JsonObject()
                  .put("instance", instanceId())
                  .put("bytes", bytes[0])
                  .put("sha256", DownloadPattern.hex(sha256));
          later(request, coldMs, () -> json(request.response(), 200, body));
        });
  }

  /** Runs {@code action} once the request's body has been read (now, if it already has). */
  private static void onEnd(HttpServerRequest request, Runnable action) {
    if (request.isEnded()) {
      action.run();
    } else {
      request.endHandler(end -> action.run());
    }
  }

  private void download(HttpServerRequest request) {
    HttpServerResponse response = request.response();
    long bytes;
    long seed;
    try {
      bytes = longParam(request, "bytes", 0, 0, MAX_DOWNLOAD_BYTES);
      seed = longParam(request, "seed", 0, Long.MIN_VALUE, Long.MAX_VALUE);
    } catch (IllegalArgumentException e) {
      json(response, 400, new JsonObject().put("error", e.getMessage()));
      return;
    }
    response
        .setChunked(true)
        .putHeader("content-type", "application/octet-stream")
        .putHeader("x-download-bytes", String.valueOf(bytes))
        .putHeader("x-download-seed", String.valueOf(seed));
    new Download(response, DownloadPattern.of(seed), bytes).pump();
  }

  /** One download's progress: writes while the connection takes more, resumes on drain. */
  private static final class Download {
    private final HttpServerResponse response;
    private final DownloadPattern pattern;
    private final long total;
    private final MessageDigest sha256 = DownloadPattern.newSha256();
    private long sent;

    Download(HttpServerResponse response, DownloadPattern pattern, long total) {
      this.response = response;
      this.pattern = pattern;
      this.total = total;
    }

    void pump() {
      // Bounded by the write queue: never more than its high-water mark is buffered.
      while (sent < total && !response.writeQueueFull()) {
        if (response.closed()) {
          return;
        }
        int length = (int) Math.min(DownloadPattern.MAX_CHUNK, total - sent);
        pattern.update(sha256, sent, length);
        response.write(pattern.chunk(sent, length));
        sent += length;
      }
      if (response.closed()) {
        return;
      }
      if (sent < total) {
        response.drainHandler(v -> pump());
        return;
      }
      response.putTrailer("x-sha256", DownloadPattern.hex(sha256)).end();
    }
  }

  private static long longParam(
      HttpServerRequest request, String name, long fallback, long min, long max) {
    String raw = request.getParam(name);
    if (raw == null || raw.isEmpty()) {
      return fallback;
    }
    try {
      long value = Long.parseLong(raw);
      if (value >= min && value <= max) {
        return value;
      }
    } catch (NumberFormatException e) {
      // Reported below, with the range.
    }
    throw new IllegalArgumentException(name + " must be an integer from " + min + " to " + max);
  }

  private static int intParam(
      HttpServerRequest request, String name, int fallback, int min, int max) {
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
      json(
          request.response(),
          400,
          new JsonObject().put("error", "/ws is a WebSocket: send an upgrade"));
      return;
    }
    request.toWebSocket().onSuccess(BackendVerticle::echo);
  }

  private static void echo(ServerWebSocket ws) {
    ws.textMessageHandler(ws::writeTextMessage);
    ws.binaryMessageHandler(ws::writeBinaryMessage);
  }
}
