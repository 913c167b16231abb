package io.teller.balancer.proxy;

import io.teller.balancer.metrics.ProxyMetrics;
import io.teller.balancer.resilience.Failure;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import java.util.Locale;

/**
 * The last stage, once per request whatever happened: gives the instance's in-flight count back,
 * and counts and logs the answer with the status it ended with (499 when the client left first).
 */
final class Finish {

  private final ProxyMetrics metrics;
  private final AccessLog accessLog;

  Finish(ProxyMetrics metrics, AccessLog accessLog) {
    this.metrics = metrics;
    this.accessLog = accessLog;
  }

  void done(Exchange exchange) {
    exchange.release();
    long nanos = System.nanoTime() - exchange.startedNanos;
    int status = exchange.status();
    String service = exchange.service();
    String instance = exchange.instanceId();
    metrics.answered(service, instance, status, nanos);
    if (accessLog.enabled()) {
      HttpServerRequest request = exchange.request;
      SocketAddress remote = request.remoteAddress();
      Failure failure = exchange.outcome();
      accessLog.log(
          new AccessLog.Entry(
              System.currentTimeMillis() - nanos / 1_000_000,
              remote == null ? "" : remote.hostAddress(),
              request.method().name(),
              request.authority() == null ? "" : request.authority().toString(),
              request.uri(),
              request.version() == null ? "" : request.version().alpnName(),
              status,
              service,
              instance,
              request.bytesRead(),
              exchange.response.bytesWritten(),
              nanos / 1_000,
              exchange.tries == null ? 0 : exchange.tries.count(),
              failure == null ? null : failure.kind().label(),
              failure == null ? null : failure.fault().name().toLowerCase(Locale.ROOT),
              exchange.explain == null ? null : exchange.explain.render()));
    }
  }
}
