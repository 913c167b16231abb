package io.teller.e2e;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Blocking JSON calls to admin and registry endpoints (plain HTTP on loopback). */
final class Http {

  /** HTTP/1.1: no h2c upgrade on plain connections, which a call once waited on for minutes. */
  private static final HttpClient CLIENT =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  private Http() {}

  static JsonObject getJson(String url) {
    return new JsonObject(send(HttpRequest.newBuilder(URI.create(url)).GET()).body());
  }

  static int put(String url, String token, JsonObject body) {
    return send(HttpRequest.newBuilder(URI.create(url))
            .header("authorization", "Bearer " + token)
            .header("content-type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString(body.encode())))
        .statusCode();
  }

  static int post(String url, String token, JsonObject body) {
    return send(HttpRequest.newBuilder(URI.create(url))
            .header("authorization", "Bearer " + token)
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body.encode())))
        .statusCode();
  }

  static HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      // The request timeout covers the headers only; the whole exchange is bounded here.
      return CLIENT
          .sendAsync(
              request.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString())
          .get(30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
