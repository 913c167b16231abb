package io.teller.registry.api;

import io.teller.common.model.Change;
import io.teller.common.model.Instance;
import io.teller.common.model.RegistryContract;
import io.teller.common.model.Service;
import io.teller.common.model.ValidationException;
import io.teller.registry.core.NotFoundException;
import io.teller.registry.core.RegistryService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.function.Supplier;

/**
 * The registry's REST API under {@code /v1}: services, instances, heartbeats and the change stream
 * as server-sent events. Writes need the bearer token; every error is {@code
 * application/problem+json} naming the field at fault.
 */
public final class RestApi {

  /** Request bodies above this size are refused with 413. */
  public static final int MAX_BODY_BYTES = 64 * 1024;

  private static final long SSE_KEEPALIVE_MS = 15_000;

  private final Vertx vertx;
  private final RegistryService registry;
  private final ApiToken token;
  private final Supplier<JsonObject> health;
  private final Buffer openApi;
  private final OpenApiValidation validation;
  private final BalancerLoads loads;

  public RestApi(
      Vertx vertx,
      RegistryService registry,
      ApiToken token,
      Supplier<JsonObject> health,
      Buffer openApi,
      OpenApiValidation validation,
      BalancerLoads loads) {
    this.vertx = vertx;
    this.registry = registry;
    this.token = token;
    this.health = health;
    this.openApi = openApi;
    this.validation = validation;
    this.loads = loads;
  }

  public Router router() {
    Router router = Router.router(vertx);
    router.get("/healthz").handler(ctx -> ctx.json(health.get()));
    router
        .get("/v1/openapi.yaml")
        .handler(ctx -> ctx.response().putHeader("content-type", "application/yaml").end(openApi));

    // Writes: the token first (a refused write costs nothing), then the body, size-capped.
    router
        .route("/v1/*")
        .method(HttpMethod.PUT)
        .method(HttpMethod.POST)
        .method(HttpMethod.PATCH)
        .method(HttpMethod.DELETE)
        .handler(this::authorize);
    router
        .route("/v1/*")
        .method(HttpMethod.PUT)
        .method(HttpMethod.POST)
        .method(HttpMethod.PATCH)
        .method(HttpMethod.DELETE)
        .handler(
            BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES).setHandleFileUploads(false));

    router
        .get("/v1/services")
        .handler(
            ctx ->
                respond(
                    ctx,
                    200,
                    registry
                        .services()
                        .map(list -> new JsonArray(list.stream().map(Service::toJson).toList()))));
    router
        .get("/v1/services/:name")
        .handler(
            ctx -> respond(ctx, 200, registry.service(ctx.pathParam("name")).map(Service::toJson)));
    router
        .put("/v1/services/:name")
        .handler(
            ctx -> {
              JsonObject body = jsonBody(ctx, "putService");
              if (body == null) {
                return;
              }
              registry
                  .putService(ctx.pathParam("name"), body)
                  .onComplete(
                      done -> {
                        if (done.failed()) {
                          fail(ctx, done.cause());
                        } else {
                          ctx.response()
                              .setStatusCode(done.result().getBoolean("created") ? 201 : 200);
                          if (done.result().getBoolean("created")) {
                            ctx.response()
                                .putHeader("location", "/v1/services/" + ctx.pathParam("name"));
                          }
                          ctx.json(done.result().getJsonObject("service"));
                        }
                      });
            });
    router
        .delete("/v1/services/:name")
        .handler(
            ctx ->
                registry
                    .deleteService(ctx.pathParam("name"))
                    .onComplete(
                        done -> {
                          if (done.failed()) {
                            fail(ctx, done.cause());
                          } else {
                            ctx.response().setStatusCode(204).end();
                          }
                        }));

    router
        .get("/v1/services/:name/instances")
        .handler(
            ctx ->
                respond(
                    ctx,
                    200,
                    registry
                        .instances(ctx.pathParam("name"))
                        .map(
                            list ->
                                new JsonArray(
                                    list.stream().map(i -> loads.withLoad(i.toJson())).toList()))));
    router
        .post("/v1/services/:name/instances")
        .handler(
            ctx -> {
              JsonObject body = jsonBody(ctx, "registerInstance");
              if (body == null) {
                return;
              }
              String service = ctx.pathParam("name");
              registry
                  .register(service, body, Instance.SOURCE_REST, null)
                  .onComplete(
                      done -> {
                        if (done.failed()) {
                          fail(ctx, done.cause());
                          return;
                        }
                        JsonObject instance = done.result().getJsonObject("instance");
                        boolean created = done.result().getBoolean("created");
                        ctx.response()
                            .setStatusCode(created ? 201 : 200)
                            .putHeader(
                                "location",
                                "/v1/services/"
                                    + service
                                    + "/instances/"
                                    + instance.getString("id"));
                        ctx.json(instance);
                      });
            });
    router
        .get("/v1/services/:name/instances/:id")
        .handler(
            ctx ->
                respond(
                    ctx,
                    200,
                    registry
                        .instance(ctx.pathParam("name"), ctx.pathParam("id"))
                        .map(i -> loads.withLoad(i.toJson()))));
    router
        .delete("/v1/services/:name/instances/:id")
        .handler(
            ctx -> {
              String drain = ctx.queryParams().get("drain");
              if (drain != null && !drain.equals("0") && !drain.equals("1")) {
                Problems.send(
                    ctx, 400, "Bad Request", "must be 0 (remove now) or 1 (drain first)", "drain");
                return;
              }
              respond(
                  ctx,
                  200,
                  registry
                      .deregister(ctx.pathParam("name"), ctx.pathParam("id"), !"0".equals(drain))
                      .map(reply -> reply.getJsonObject("instance")));
            });
    router
        .patch("/v1/services/:name/instances/:id")
        .handler(
            ctx -> {
              JsonObject body = jsonBody(ctx, "updateInstance");
              if (body == null) {
                return;
              }
              respond(
                  ctx,
                  200,
                  registry
                      .setWeight(
                          ctx.pathParam("name"), ctx.pathParam("id"), body.getInteger("weight"))
                      .map(reply -> loads.withLoad(reply.getJsonObject("instance"))));
            });
    router
        .put("/v1/services/:name/instances/:id/heartbeat")
        .handler(
            ctx ->
                respond(
                    ctx,
                    200,
                    registry
                        .heartbeat(ctx.pathParam("name"), ctx.pathParam("id"))
                        .map(Instance::toJson)));

    router.get("/v1/balancers").handler(ctx -> ctx.json(loads.balancers()));
    router.get("/v1/events").handler(this::events);

    router
        .route("/v1/*")
        .last()
        .handler(
            ctx ->
                Problems.send(
                    ctx, 404, "Not Found", "no such resource: " + ctx.request().path(), null));
    router.errorHandler(
        413,
        ctx ->
            Problems.send(
                ctx,
                413,
                "Payload Too Large",
                "request body is larger than " + MAX_BODY_BYTES + " bytes",
                "body"));
    router.errorHandler(
        405,
        ctx ->
            Problems.send(
                ctx,
                405,
                "Method Not Allowed",
                ctx.request().method() + " is not allowed on " + ctx.request().path(),
                null));
    router.errorHandler(
        500,
        ctx ->
            Problems.send(
                ctx,
                500,
                "Internal Server Error",
                String.valueOf(
                    ctx.failure() == null ? "unexpected error" : ctx.failure().getMessage()),
                null));
    return router;
  }

  private void authorize(RoutingContext ctx) {
    if (token.accepts(ctx.request().getHeader("authorization"))) {
      ctx.next();
      return;
    }
    ctx.response().putHeader("www-authenticate", "Bearer realm=\"teller\"");
    Problems.send(
        ctx,
        401,
        "Unauthorized",
        ctx.request().getHeader("authorization") == null
            ? "writes need Authorization: Bearer <token>"
            : "the bearer token is not valid",
        null);
  }

  /**
   * The JSON object body, checked against the operation's schema in the OpenAPI document, or null
   * after answering 400.
   */
  private JsonObject jsonBody(RoutingContext ctx, String operationId) {
    Buffer body = ctx.body().buffer();
    if (body == null || body.length() == 0) {
      Problems.send(ctx, 400, "Bad Request", "a JSON object is required", "body");
      return null;
    }
    try {
      Object parsed = io.vertx.core.json.Json.decodeValue(body);
      if (parsed instanceof JsonObject object) {
        validation.validateBody(operationId, object);
        return object;
      }
      Problems.send(ctx, 400, "Bad Request", "must be a JSON object", "body");
    } catch (DecodeException e) {
      Problems.send(
          ctx, 400, "Bad Request", "malformed JSON: " + firstLine(e.getMessage()), "body");
    } catch (ValidationException e) {
      Problems.send(ctx, 400, "Bad Request", e.detail(), e.field());
    }
    return null;
  }

  private static void respond(RoutingContext ctx, int status, Future<?> result) {
    result.onComplete(
        done -> {
          if (done.failed()) {
            fail(ctx, done.cause());
          } else {
            ctx.response().setStatusCode(status);
            ctx.json(done.result());
          }
        });
  }

  private static void fail(RoutingContext ctx, Throwable failure) {
    if (failure instanceof ValidationException v) {
      Problems.send(ctx, 400, "Bad Request", v.detail(), v.field());
    } else if (failure instanceof NotFoundException n) {
      Problems.send(ctx, 404, "Not Found", n.getMessage(), null);
    } else {
      Problems.send(
          ctx,
          503,
          "Service Unavailable",
          "the registry could not complete the request: " + failure.getMessage(),
          null);
    }
  }

  /** Server-sent events: one per change, {@code id} is the revision, {@code event} its kind. */
  private void events(RoutingContext ctx) {
    HttpServerResponse response = ctx.response();
    response
        .setChunked(true)
        .putHeader("content-type", "text/event-stream")
        .putHeader("cache-control", "no-cache")
        .putHeader("x-accel-buffering", "no");
    response.write(": teller registry change stream\n\n");
    MessageConsumer<JsonObject> consumer =
        vertx
            .eventBus()
            .consumer(
                RegistryContract.CHANGES,
                message -> {
                  Change change = Change.fromJson(message.body());
                  if (!response.writeQueueFull()) {
                    response.write(
                        "id: "
                            + change.revision()
                            + "\nevent: "
                            + change.eventName()
                            + "\ndata: "
                            + message.body().encode()
                            + "\n\n");
                  } else {
                    // A client that cannot keep up is cut off rather than buffered without bound;
                    // it
                    // reconnects and reads the snapshot.
                    response.reset();
                  }
                });
    long keepAlive = vertx.setPeriodic(SSE_KEEPALIVE_MS, t -> response.write(": keep-alive\n\n"));
    response.closeHandler(
        v -> {
          vertx.cancelTimer(keepAlive);
          consumer.unregister();
        });
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
