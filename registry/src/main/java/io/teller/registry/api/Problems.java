package io.teller.registry.api;

import io.teller.common.model.RegistryFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * Answers with RFC 9457 problem details ({@code application/problem+json}), the one error format of
 * the API; a registry failure's body comes from {@link RegistryFailure#toProblem()}.
 */
final class Problems {

  static final String CONTENT_TYPE = "application/problem+json";

  private Problems() {}

  /** Answers with the problem {@code failure} is ({@link RegistryFailure#of}). */
  static void send(RoutingContext ctx, Throwable failure) {
    RegistryFailure problem = RegistryFailure.of(failure);
    send(ctx, problem.status(), problem.toProblem());
  }

  /** Answers with a problem of the HTTP layer itself (401, 404 for a path, 405, 413). */
  static void send(RoutingContext ctx, int status, String title, String detail, String field) {
    send(ctx, status, RegistryFailure.problem(status, title, detail, field));
  }

  private static void send(RoutingContext ctx, int status, JsonObject problem) {
    if (ctx.response().ended()) {
      return;
    }
    ctx.response()
        .setStatusCode(status)
        .putHeader("content-type", CONTENT_TYPE)
        .end(problem.encodePrettily());
  }
}
