import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.net.NetServerOptions;
import java.util.ArrayList;
import java.util.List;

/**
 * The TCP benchmark's backend: an echo server on each port given, every byte sent back as it
 * comes (with back-pressure), all ports served by one Vert.x event loop, so the backends take at
 * most one core. Run with the sample backend's jar on the class path for Vert.x:
 * {@code java -cp sample-backend/target/teller-sample-backend.jar bench/TcpEcho.java PORT...}
 */
public class TcpEcho {
  public static void main(String[] args) throws Exception {
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    List<Future<?>> listening = new ArrayList<>();
    for (String port : args) {
      listening.add(vertx.createNetServer(new NetServerOptions().setTcpNoDelay(true))
          .connectHandler(socket -> socket.pipeTo(socket))
          .listen(Integer.parseInt(port), "127.0.0.1"));
    }
    Future.all(listening).await();
    System.out.println("echo ready on " + String.join(" ", args));
  }
}
