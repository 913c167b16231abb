package io.teller.registry.dashboard;

import io.teller.registry.api.BalancerLoads;
import io.teller.registry.core.RegistryService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.StaticHandler;
import java.util.function.Supplier;

/**
 * The live dashboard at {@code /dashboard}: a page of static files from this jar (no build step,
 * nothing fetched from elsewhere) and the one stream it reads, {@code /dashboard/stream} ({@link
 * DashboardStream}). The page reads without a token; its actions (drain, weight) call the REST API
 * with the token the user enters.
 */
public final class Dashboard {

  private final DashboardView view;
  private final DashboardStream stream;

  /**
   * @param maxClients pages this node streams to at once
   * @param about what the page says of this node
   */
  public Dashboard(
      Vertx vertx,
      RegistryService registry,
      BalancerLoads loads,
      int maxClients,
      Supplier<JsonObject> about) {
    this.view = new DashboardView(vertx, registry);
    this.stream = new DashboardStream(vertx, view, loads, maxClients, about);
  }

  public Future<Void> start() {
    return view.start().onSuccess(v -> stream.start());
  }

  public Future<Void> stop() {
    stream.stop();
    return view.stop();
  }

  /** Adds the page and its stream to the registry's router. */
  public void mount(Router router) {
    // Relative URLs in the page need the trailing slash. Vert.x Web matches "/dashboard" for
    // "/dashboard/" too, hence the check.
    router
        .get("/dashboard")
        .handler(
            ctx -> {
              if (ctx.request().path().equals("/dashboard")) {
                ctx.redirect("/dashboard/");
              } else {
                ctx.next();
              }
            });
    router.get("/dashboard/stream").handler(stream::handle);
    router
        .get("/dashboard/*")
        .handler(
            ctx -> {
              // The page only ever talks to this origin, and is never framed (its buttons act with
              // the user's token).
              ctx.response()
                  .putHeader(
                      "content-security-policy",
                      "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
                  .putHeader("x-content-type-options", "nosniff")
                  .putHeader("referrer-policy", "no-referrer");
              ctx.next();
            })
        .handler(
            StaticHandler.create("dashboard")
                .setIndexPage("index.html")
                // Small files that change with the jar: revalidated on each load.
                .setCachingEnabled(false)
                .setDirectoryListing(false));
  }
}
