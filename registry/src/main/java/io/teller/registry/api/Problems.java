package io.teller.registry.api;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** RFC 9457 problem details ({@code application/problem+json}), the one error format of the API. */
final class Problems {

  static final String CONTENT_TYPE = "application/problem+json";

  private Problems() {}

  static void send(RoutingContext ctx, int status, String title, String detail, String field) {
    JsonObject problem =
        new JsonObject()
            .put("type", "about:blank")
            .put("title", title)
            .put("status", status)
            .put("detail", detail);
    if (field != null) {
      problem.put("field", field);
    }
    if (ctx.response().ended()) {
      return;
    }
    ctx.response()
        .setStatusCode(status)
        .putHeader("content-type", CONTENT_TYPE)
        .end(problem.encodePrettily());
  }
}
