package io.teller.registry.dashboard;

import io.teller.common.load.LoadBoard;
import io.teller.registry.api.BalancerLoads;
import io.teller.registry.load.TrafficBoard;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The dashboard's one stream (server-sent events): a {@code hello} with everything when a page
 * connects (services, instances, every instance's figures and sparkline, balancers, timeline), then
 * a {@code tick} every {@link #TICK_MS} with only what changed: registry changes, the figures of
 * the instances whose in-flight counts or traffic changed, the balancers, and at each 5-second bin
 * the sparkline point that closed.
 *
 * <p>Built once per tick for every page (the cost does not grow with pages, only the writes), and
 * only while a page is open. At most {@code maxClients} pages at once: the next one gets 503; a
 * page that reads too slowly is cut off (its browser reconnects and gets a new hello).
 *
 * <p>A figure row is an array: {@code [inFlight, {balancer: inFlight}, requestsPerSecond,
 * {balancer: requestsPerSecond}, errorRate, p50Ms, p99Ms, ejections, [ejectedBy]]}, where a
 * balancer is a short key that the balancers list maps to its member id ({@code key}): member ids
 * are 36 characters, and with a thousand busy instances the rows are most of the stream.
 */
final class DashboardStream {

  /** How often the page gets what changed: figures on screen are at most this much older. */
  static final long TICK_MS = 250;

  private final Vertx vertx;
  private final DashboardView view;
  private final BalancerLoads loads;
  private final int maxClients;
  private final Supplier<JsonObject> about;
  private final Set<HttpServerResponse> clients = new LinkedHashSet<>();
  private final Map<String, JsonArray> lastRows = new HashMap<>();
  private final Map<String, String> keys = new HashMap<>();
  private long timer = -1;
  private long lastBin = TrafficBoard.binOf(System.currentTimeMillis());

  /**
   * @param maxClients pages served at once
   * @param about what the page says of this node (cluster, member)
   */
  DashboardStream(
      Vertx vertx,
      DashboardView view,
      BalancerLoads loads,
      int maxClients,
      Supplier<JsonObject> about) {
    this.vertx = vertx;
    this.view = view;
    this.loads = loads;
    this.maxClients = maxClients;
    this.about = about;
  }

  void start() {
    timer = vertx.setPeriodic(TICK_MS, t -> tick());
  }

  void stop() {
    vertx.cancelTimer(timer);
    List.copyOf(clients).forEach(HttpServerResponse::end);
    clients.clear();
  }

  int clients() {
    return clients.size();
  }

  /** Serves one page's stream. */
  void handle(RoutingContext ctx) {
    if (clients.size() >= maxClients) {
      ctx.response()
          .setStatusCode(503)
          .putHeader("content-type", "application/problem+json")
          .putHeader("retry-after", "5")
          .end(
              new JsonObject()
                  .put("type", "about:blank")
                  .put("title", "Service Unavailable")
                  .put("status", 503)
                  .put(
                      "detail",
                      "this registry node already streams to "
                          + maxClients
                          + " dashboards (dashboard.max.clients)")
                  .encodePrettily());
      return;
    }
    HttpServerResponse response = ctx.response();
    response
        .setChunked(true)
        .putHeader("content-type", "text/event-stream")
        .putHeader("cache-control", "no-cache")
        .putHeader("x-accel-buffering", "no");
    // retry: the browser reconnects a second after a cut, and gets a new hello.
    response.write("retry: 1000\nevent: hello\ndata: " + hello().encode() + "\n\n");
    clients.add(response);
    response.closeHandler(v -> clients.remove(response));
    response.exceptionHandler(e -> clients.remove(response));
  }

  private JsonObject hello() {
    long now = System.currentTimeMillis();
    long bin = TrafficBoard.binOf(now);
    TrafficBoard traffic = loads.traffic();
    JsonObject rows = new JsonObject();
    JsonObject spark = new JsonObject();
    for (String id : view.instances().keySet()) {
      rows.put(id, row(id, now));
      double[] rates = traffic.sparkline(id, bin);
      if (rates != null) {
        JsonArray points = new JsonArray();
        for (double rate : rates) {
          points.add(TrafficBoard.round(rate));
        }
        spark.put(id, points);
      }
    }
    return about
        .get()
        .put("now", now)
        .put("tickMs", TICK_MS)
        .put("binSeconds", TrafficBoard.BIN_SECONDS)
        .put("bin", bin)
        .put("services", new JsonArray(List.copyOf(view.services().values())))
        .put(
            "instances",
            new JsonArray(
                view.instances().values().stream().map(DashboardStream::compact).toList()))
        .put("rows", rows)
        .put("spark", spark)
        .put("balancers", balancers())
        .put("timeline", view.timeline());
  }

  private void tick() {
    long now = System.currentTimeMillis();
    Set<String> touched = new HashSet<>(loads.takeTouched());
    List<JsonObject> changes = view.takeChanges();
    long bin = TrafficBoard.binOf(now);
    boolean binClosed = bin != lastBin;
    long closed = lastBin;
    lastBin = bin;
    if (clients.isEmpty()) {
      lastRows.clear();
      return;
    }
    if (binClosed) {
      // The minute's window moved: every instance with traffic may read differently now.
      touched.addAll(loads.traffic().active());
    }
    for (JsonObject change : changes) {
      if (change.getString("id") != null) {
        touched.add(change.getString("id"));
      }
    }
    JsonObject rows = new JsonObject();
    List<String> gone = new ArrayList<>();
    for (String id : touched) {
      if (!view.instances().containsKey(id)) {
        gone.add(id);
        continue;
      }
      JsonArray row = row(id, now);
      if (!row.equals(lastRows.get(id))) {
        rows.put(id, row);
        lastRows.put(id, row);
      }
    }
    gone.forEach(lastRows::remove);
    JsonObject tick =
        new JsonObject()
            .put("now", now)
            .put(
                "changes",
                new JsonArray(changes.stream().map(DashboardStream::compactChange).toList()))
            .put("rows", rows)
            .put("balancers", balancers());
    if (binClosed) {
      JsonObject rates = new JsonObject();
      loads
          .traffic()
          .ratesIn(closed)
          .forEach((id, rate) -> rates.put(id, TrafficBoard.round(rate)));
      tick.put("spark", new JsonObject().put("bin", closed).put("rates", rates));
    }
    String event = "event: tick\ndata: " + tick.encode() + "\n\n";
    for (HttpServerResponse client : List.copyOf(clients)) {
      if (client.writeQueueFull()) {
        // Cut off rather than buffered without bound; its browser reconnects.
        clients.remove(client);
        client.reset();
      } else {
        client.write(event);
      }
    }
  }

  /**
   * What the page shows of an instance: a third of its JSON (metadata, times and revision stay in
   * the API), which is most of a hello with 10,000 instances.
   */
  static JsonObject compact(JsonObject instance) {
    return new JsonObject()
        .put("id", instance.getString("id"))
        .put("service", instance.getString("service"))
        .put("host", instance.getString("host"))
        .put("port", instance.getInteger("port"))
        .put("weight", instance.getInteger("weight"))
        .put("status", instance.getString("status"));
  }

  private static JsonObject compactChange(JsonObject change) {
    JsonObject data = change.getJsonObject("data");
    return data == null || change.getString("id") == null
        ? change
        : change.copy().put("data", compact(data));
  }

  /** A balancer's short key in rows, the same for the life of this node. */
  private String key(String member) {
    return keys.computeIfAbsent(member, m -> Integer.toString(keys.size(), 36));
  }

  private JsonArray balancers() {
    JsonArray list = loads.balancers();
    list.forEach(b -> ((JsonObject) b).put("key", key(((JsonObject) b).getString("member"))));
    return list;
  }

  private JsonArray row(String id, long now) {
    LoadBoard inFlight = loads.inFlight();
    TrafficBoard.Figures f = loads.traffic().figures(id, now);
    JsonObject inFlightBy = new JsonObject();
    inFlight.byMember(id).forEach((member, n) -> inFlightBy.put(key(member), n));
    JsonObject rateBy = new JsonObject();
    f.byBalancer().forEach((member, rate) -> rateBy.put(key(member), TrafficBoard.round(rate)));
    JsonArray ejectedBy = new JsonArray();
    f.ejectedBy().forEach(member -> ejectedBy.add(key(member)));
    return new JsonArray()
        .add(inFlight.total(id))
        .add(inFlightBy)
        .add(TrafficBoard.round(f.requestsPerSecond()))
        .add(rateBy)
        .add(Math.round(f.errorRate() * 10_000) / 10_000.0)
        .add(Double.isNaN(f.p50Millis()) ? null : TrafficBoard.round(f.p50Millis()))
        .add(Double.isNaN(f.p99Millis()) ? null : TrafficBoard.round(f.p99Millis()))
        .add(f.ejections())
        .add(ejectedBy);
  }
}
