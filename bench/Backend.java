import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerOptions;
import java.util.ArrayList;
import java.util.List;

/**
 * The benchmark's backend: a tiny HTTP/1.1 server that answers every request (any method, any
 * path) with 200 and the same 64-byte text body, on each port given. Nothing Teller-specific: it
 * is plain Vert.x, so every proxy in bench/http.sh is measured against the same backends.
 *
 * <p>One process and one event loop serve every port, so the backends take at most one of the
 * machine's cores and leave the rest to the load generator and the proxy under test.
 *
 * <p>Run: {@code java -cp sample-backend/target/teller-sample-backend.jar bench/Backend.java 18081
 * 18082 18083}. Prints one line, {@code backend ready on ...}, once every port listens; stops on
 * SIGTERM.
 */
public class Backend {

  public static void main(String[] args) {
    if (args.length == 0) {
      System.err.println("usage: Backend PORT...");
      System.exit(2);
    }
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    // 63 characters and a newline: 64 bytes.
    Buffer body = Buffer.buffer("teller-bench-backend-64-byte-body-0123456789abcdefghijklmnopqrs\n");
    if (body.length() != 64) {
      throw new IllegalStateException("body is " + body.length() + " bytes");
    }
    CharSequence contentType = HttpHeaders.createOptimized("text/plain");
    List<Future<?>> listening = new ArrayList<>();
    for (String arg : args) {
      int port = Integer.parseInt(arg);
      listening.add(vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(port))
          .requestHandler(request -> request.response()
              .putHeader(HttpHeaders.CONTENT_TYPE, contentType)
              .end(body))
          .listen());
    }
    Future.all(listening).onComplete(result -> {
      if (result.succeeded()) {
        System.out.println("backend ready on 127.0.0.1 ports " + String.join(" ", args));
      } else {
        System.err.println("backend failed to listen: " + result.cause());
        System.exit(1);
      }
    });
  }
}
