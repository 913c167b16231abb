package io.teller.backend;

import io.teller.common.config.CommonSettings;
import io.teller.common.config.TellerConfig;
import io.teller.common.launch.Listeners;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A sample backend: answers {@code GET /} with who it is and how many requests it served. */
public final class BackendVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger("teller.backend");

  private final TellerConfig config;
  private final AtomicLong served = new AtomicLong();
  private HttpServer server;

  public BackendVerticle(TellerConfig config) {
    this.config = config;
  }

  @Override
  public Future<?> start() {
    String host = config.string(CommonSettings.LISTEN_HOST);
    return Listeners.announce(
            vertx.createHttpServer()
                .requestHandler(request -> {
                  if (request.path().equals("/health")) {
                    request.response().end("ok\n");
                    return;
                  }
                  request.response()
                      .putHeader("content-type", "application/json")
                      .end(new JsonObject()
                          .put("address", config.string(CommonSettings.CLUSTER_HOST) + ":" + server.actualPort())
                          .put("served", served.incrementAndGet())
                          .encode());
                })
                .listen(config.integer(BackendSettings.PORT), host),
            LOG, "sample backend", "http", host, "/")
        .onSuccess(s -> server = s);
  }
}
