package io.teller.balancer.proxy;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;

/** The plain-HTTP listener's default: a permanent redirect (308, method kept) to HTTPS. */
public final class RedirectHandler implements Handler<HttpServerRequest> {

  private final int httpsPort;

  public RedirectHandler(int httpsPort) {
    this.httpsPort = httpsPort;
  }

  @Override
  public void handle(HttpServerRequest request) {
    if (request.authority() == null) {
      Responses.plain(request.response(), 400, "a Host header is needed to redirect to HTTPS");
      return;
    }
    String host = request.authority().host();
    if (host.indexOf(':') >= 0) {
      host = "[" + host + "]";
    }
    String location = "https://" + host + (httpsPort == 443 ? "" : ":" + httpsPort) + request.uri();
    request
        .response()
        .setStatusCode(308)
        .putHeader("location", location)
        .putHeader("content-type", "text/plain; charset=utf-8")
        .end("use HTTPS: " + location + "\n");
  }
}
