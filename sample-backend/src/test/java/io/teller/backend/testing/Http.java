package io.teller.backend.testing;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** A small blocking HTTP/1.1 client for tests (the JDK's); writes carry the test token. */
public final class Http {

  private static final HttpClient CLIENT =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  private Http() {}

  /** A response: status and body. */
  public record Response(int status, String body) {
    public JsonObject json() {
      return new JsonObject(body);
    }
  }

  public static Response get(String url) {
    return send(request(url).GET());
  }

  public static Response put(String url, String body) {
    return send(request(url).PUT(HttpRequest.BodyPublishers.ofString(body)));
  }

  public static Response delete(String url) {
    return send(request(url).DELETE());
  }

  /** A GET sent without waiting for its answer. */
  public static CompletableFuture<Response> getAsync(String url) {
    return CLIENT
        .sendAsync(request(url).GET().build(), HttpResponse.BodyHandlers.ofString())
        .thenApply(r -> new Response(r.statusCode(), r.body()));
  }

  public static HttpRequest.Builder request(String url) {
    return HttpRequest.newBuilder(URI.create(url))
        .timeout(Duration.ofSeconds(20))
        .header("authorization", "Bearer " + TestRegistry.TOKEN)
        .header("content-type", "application/json");
  }

  public static Response send(HttpRequest.Builder request) {
    try {
      HttpResponse<String> response =
          CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
      return new Response(response.statusCode(), response.body());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public static HttpClient client() {
    return CLIENT;
  }
}
