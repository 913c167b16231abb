package io.teller.backend.registration;

import io.teller.common.model.Instance;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry over its REST API ({@code /v1}), for a backend that does not join the cluster.
 * Writes carry the bearer token. Before the first registration it defines the service with the
 * configured route if the service does not exist yet (the registry would otherwise create it with
 * the default route {@code /<service>}); an existing service is left as it is.
 */
public final class RestRegistryLink implements RegistryLink {

  static final long REQUEST_TIMEOUT_MS = 10_000;
  private static final long CONNECT_TIMEOUT_MS = 2_000;
  private static final Logger LOG = LoggerFactory.getLogger("teller.backend");

  private final HttpClientAgent client;
  private final String baseUrl;
  private final String token;
  private final String route;
  private boolean serviceChecked;

  /**
   * @param vertx the Vert.x to run the HTTP client on
   * @param baseUrl the registry's root URL, e.g. {@code http://127.0.0.1:9000}
   * @param token the API token, or empty (then writes are refused with 401)
   * @param route the path prefix to define the service with if it does not exist yet
   */
  public RestRegistryLink(Vertx vertx, String baseUrl, String token, String route) {
    this.client =
        vertx.createHttpClient(new HttpClientOptions(), new PoolOptions().setHttp1MaxSize(2));
    this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    this.token = token;
    this.route = route;
  }

  @Override
  public Future<JsonObject> register(String service, Instance.Registration registration) {
    return ensureService(service)
        .compose(
            v ->
                call(
                    HttpMethod.POST,
                    "/v1/services/" + service + "/instances",
                    registration.toJson()));
  }

  @Override
  public Future<JsonObject> heartbeat(String service, String id) {
    return call(
        HttpMethod.PUT, "/v1/services/" + service + "/instances/" + id + "/heartbeat", null);
  }

  @Override
  public Future<JsonObject> deregister(String service, String id) {
    return call(
        HttpMethod.DELETE, "/v1/services/" + service + "/instances/" + id + "?drain=1", null);
  }

  @Override
  public String describe() {
    return "at " + baseUrl;
  }

  @Override
  public Future<Void> close() {
    return client.close();
  }

  private Future<Void> ensureService(String service) {
    if (serviceChecked) {
      return Future.succeededFuture();
    }
    String path = "/v1/services/" + service;
    return call(HttpMethod.GET, path, null)
        .<Void>mapEmpty()
        .recover(
            failure -> {
              if (!RegistryLinkException.is(failure, RegistryLinkException.Kind.NOT_FOUND)) {
                return Future.failedFuture(failure);
              }
              JsonObject definition =
                  new JsonObject()
                      .put(
                          "routes", new JsonArray().add(new JsonObject().put("pathPrefix", route)));
              return call(HttpMethod.PUT, path, definition)
                  .onSuccess(s -> LOG.info("service {} defined with route {}", service, route))
                  .mapEmpty();
            })
        .onSuccess(v -> serviceChecked = true);
  }

  private Future<JsonObject> call(HttpMethod method, String path, JsonObject body) {
    RequestOptions options =
        new RequestOptions()
            .setMethod(method)
            .setAbsoluteURI(baseUrl + path)
            .setConnectTimeout(CONNECT_TIMEOUT_MS)
            .setIdleTimeout(REQUEST_TIMEOUT_MS)
            .putHeader("accept", "application/json");
    if (!token.isEmpty()) {
      options.putHeader("authorization", "Bearer " + token);
    }
    if (body != null) {
      options.putHeader("content-type", "application/json");
    }
    return client
        .request(options)
        .compose(request -> body == null ? request.send() : request.send(body.toBuffer()))
        .compose(
            response ->
                response.body().map(buffer -> answer(method, path, response.statusCode(), buffer)))
        .recover(
            failure ->
                Future.failedFuture(
                    failure instanceof RegistryLinkException
                        ? failure
                        : new RegistryLinkException(
                            RegistryLinkException.Kind.UNREACHABLE,
                            String.valueOf(failure.getMessage()))));
  }

  private static JsonObject answer(HttpMethod method, String path, int status, Buffer body) {
    if (status >= 200 && status < 300) {
      return body.length() == 0 ? new JsonObject() : body.toJsonObject();
    }
    String reason = method + " " + path + ": " + status + " " + detail(body);
    RegistryLinkException.Kind kind =
        status == 404
            ? RegistryLinkException.Kind.NOT_FOUND
            : status >= 400 && status < 500
                ? RegistryLinkException.Kind.REFUSED
                : RegistryLinkException.Kind.UNREACHABLE;
    throw new RegistryLinkException(kind, reason);
  }

  /** The problem's detail (and the field at fault), or the body itself. */
  private static String detail(Buffer body) {
    try {
      JsonObject problem = body.toJsonObject();
      String detail = problem.getString("detail", problem.getString("title", ""));
      String field = problem.getString("field");
      return field == null ? detail : field + ": " + detail;
    } catch (RuntimeException e) {
      return body.toString();
    }
  }
}
