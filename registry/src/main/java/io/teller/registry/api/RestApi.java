package io.teller.registry.api;

import io.teller.common.auth.ApiToken;
import io.teller.common.model.Instance;
import io.teller.common.model.Service;
import io.teller.common.model.SlowStart;
import io.teller.common.model.ValidationException;
import io.teller.registry.core.RegistryService;
import io.teller.registry.core.WriteCommand;
import io.teller.registry.core.WriteCommand.DeleteService;
import io.teller.registry.core.WriteCommand.Deregister;
import io.teller.registry.core.WriteCommand.PutService;
import io.teller.registry.core.WriteCommand.Register;
import io.teller.registry.core.WriteCommand.SetWeight;
import io.teller.registry.core.WriteReply;
import io.teller.registry.guard.InstanceGuard;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The registry's REST API under {@code /v1}: services, instances, heartbeats and the change stream
 * as server-sent events. Writes need the bearer token; every error is {@code
 * application/problem+json} naming the field at fault.
 */
public final class RestApi {

  /** Request bodies above this size are refused with 413. */
  public static final int MAX_BODY_BYTES = 64 * 1024;

  private final Vertx vertx;
  private final RegistryService registry;
  private final InstanceGuard guard;
  private final ApiToken token;
  private final Supplier<JsonObject> health;
  private final Buffer openApi;
  private final OpenApiValidation validation;
  private final BalancerLoads loads;
  private final ChangeStream changes;

  public RestApi(
      Vertx vertx,
      RegistryService registry,
      InstanceGuard guard,
      ApiToken token,
      Supplier<JsonObject> health,
      Buffer openApi,
      OpenApiValidation validation,
      BalancerLoads loads,
      ChangeStream changes) {
    this.vertx = vertx;
    this.registry = registry;
    this.guard = guard;
    this.token = token;
    this.health = health;
    this.openApi = openApi;
    this.validation = validation;
    this.loads = loads;
    this.changes = changes;
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
              String name = ctx.pathParam("name");
              write(
                  ctx,
                  () -> new PutService(Service.fromJson(body, name)),
                  stored -> {
                    if (stored.created()) {
                      ctx.response()
                          .setStatusCode(201)
                          .putHeader("location", "/v1/services/" + name);
                    }
                    ctx.json(stored.service().toJson());
                  });
            });
    router
        .delete("/v1/services/:name")
        .handler(
            ctx ->
                write(
                    ctx,
                    () -> new DeleteService(ctx.pathParam("name")),
                    deleted -> ctx.response().setStatusCode(204).end()));

    router
        .get("/v1/services/:name/instances")
        .handler(
            ctx ->
                respond(
                    ctx,
                    200,
                    registry
                        .service(ctx.pathParam("name"))
                        .compose(
                            service ->
                                registry
                                    .instances(service.name())
                                    .map(list -> instanceList(service, list)))));
    router
        .post("/v1/services/:name/instances")
        .handler(
            ctx -> {
              JsonObject body = jsonBody(ctx, "registerInstance");
              if (body == null) {
                return;
              }
              String service = ctx.pathParam("name");
              write(
                  ctx,
                  () -> {
                    Service.checkName(service, "service");
                    return new Register(
                        service,
                        Instance.Registration.fromJson(body),
                        Instance.SOURCE_REST,
                        null,
                        null);
                  },
                  stored -> {
                    ctx.response()
                        .setStatusCode(stored.created() ? 201 : 200)
                        .putHeader(
                            "location",
                            "/v1/services/" + service + "/instances/" + stored.instance().id());
                    ctx.json(stored.instance().toJson());
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
              write(
                  ctx,
                  () ->
                      new Deregister(
                          ctx.pathParam("name"), ctx.pathParam("id"), !"0".equals(drain)),
                  deregistered -> ctx.json(deregistered.instance().toJson()));
            });
    router
        .patch("/v1/services/:name/instances/:id")
        .handler(
            ctx -> {
              JsonObject body = jsonBody(ctx, "updateInstance");
              if (body == null) {
                return;
              }
              write(
                  ctx,
                  () -> new SetWeight(ctx.pathParam("name"), ctx.pathParam("id"), weight(body)),
                  set -> ctx.json(loads.withLoad(set.instance().toJson())));
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
    router.get("/v1/events").handler(changes::handle);

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

  /**
   * The instances as listed: each with its load and, while it takes traffic, its slow-start factor
   * now (1 when the service has no slow start or the instance's ramp is over).
   */
  private JsonArray instanceList(Service service, List<Instance> instances) {
    Map<String, Double> factors =
        SlowStart.factors(service.slowStart(), instances, System.currentTimeMillis());
    return new JsonArray(
        instances.stream()
            .map(
                i -> {
                  JsonObject json = loads.withLoad(i.toJson());
                  Double factor = factors.get(i.id());
                  return factor == null
                      ? json
                      : json.put("slowStartFactor", SlowStart.rounded(factor));
                })
            .toList());
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
      Problems.send(ctx, e);
    }
    return null;
  }

  private static void respond(RoutingContext ctx, int status, Future<?> result) {
    result.onComplete(
        done -> {
          if (done.failed()) {
            Problems.send(ctx, done.cause());
          } else {
            ctx.response().setStatusCode(status);
            ctx.json(done.result());
          }
        });
  }

  /**
   * Makes a write command from the request (this is where it is validated: a {@link
   * ValidationException} is a 400 naming the field, and an instance's address must pass the {@link
   * InstanceGuard}), has it applied, and answers with {@code answer}, or with the problem it failed
   * with.
   */
  private <R extends WriteReply> void write(
      RoutingContext ctx, Supplier<WriteCommand<R>> command, Consumer<R> answer) {
    Future.succeededFuture()
        .map(v -> command.get())
        .compose(this::admitted)
        .compose(registry::write)
        .onSuccess(answer::accept)
        .onFailure(failure -> Problems.send(ctx, failure));
  }

  /** {@code command}, once the address of an instance it registers passes the guard. */
  private <R extends WriteReply> Future<WriteCommand<R>> admitted(WriteCommand<R> command) {
    return command instanceof Register register
        ? guard.admit(register.registration()).map(command)
        : Future.succeededFuture(command);
  }

  /**
   * The weight a {@code PATCH} body asks for. The OpenAPI schema checks it already; checked again
   * here, as {@code Registration.fromJson} does, so that no command leaves this node unchecked.
   */
  private static int weight(JsonObject body) {
    if (!(body.getValue("weight") instanceof Integer weight)
        || weight < 0
        || weight > Instance.MAX_WEIGHT) {
      throw new ValidationException(
          "weight", "must be an integer between 0 and " + Instance.MAX_WEIGHT);
    }
    return weight;
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
