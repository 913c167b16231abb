package io.teller.common.launch;

import io.vertx.core.Future;
import io.vertx.core.http.HttpServer;
import org.slf4j.Logger;

/** Start-up lines for listeners, so that every program announces its URLs the same way. */
public final class Listeners {

  private Listeners() {}

  /**
   * The URL a user can open for a listener bound to {@code host}: a wildcard bind is shown as
   * {@code localhost}.
   */
  public static String url(String scheme, String host, int port, String path) {
    String shown =
        host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")
            ? "localhost"
            : host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    return scheme + "://" + shown + ":" + port + path;
  }

  /** Logs "{what} listening on {url}" once the server is bound; passes the server on. */
  public static Future<HttpServer> announce(
      Future<HttpServer> listening,
      Logger log,
      String what,
      String scheme,
      String host,
      String path) {
    return listening.onSuccess(
        server ->
            log.info("{} listening on {}", what, url(scheme, host, server.actualPort(), path)));
  }
}
