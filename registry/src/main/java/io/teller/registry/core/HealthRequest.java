package io.teller.registry.core;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import java.net.InetAddress;
import java.util.concurrent.TimeoutException;

/**
 * One health-check GET, bounded in time and in what it reads: the verdict is the status, so at most
 * {@value #MAX_BODY_BYTES} bytes of the body are read (none kept) before the request is reset, and
 * when the exchange is not over within the check's timeout the request is reset too, closing its
 * connection. A backend that answers a huge body, or never finishes one, costs a few KiB and one
 * connection for at most the timeout. As Kubernetes' HTTP probes do, the timeout covers the body
 * read too: a body that stalls before its end (or before the cap) fails the check.
 *
 * <p>The request goes to the address the caller resolved and checked, with the instance's host in
 * the {@code Host} header, so that a name cannot resolve elsewhere between the check and the
 * connection.
 */
final class HealthRequest {

  /** How much of a body is read before the request is reset: enough to end most bodies cleanly. */
  static final int MAX_BODY_BYTES = 4096;

  private final Vertx vertx;
  private final HttpClient client;
  private final Promise<Integer> outcome = Promise.promise();
  private HttpClientRequest request;
  private long read;

  private HealthRequest(Vertx vertx, HttpClient client) {
    this.vertx = vertx;
    this.client = client;
  }

  /**
   * GETs {@code path} from {@code host:port} at {@code address}; completes with the status, or
   * fails with why there is none (refused, reset, timed out). Call on the context that owns {@code
   * client}.
   */
  static Future<Integer> send(
      Vertx vertx,
      HttpClient client,
      InetAddress address,
      String host,
      int port,
      String path,
      long timeoutMs,
      String prober) {
    return new HealthRequest(vertx, client).start(address, host, port, path, timeoutMs, prober);
  }

  private Future<Integer> start(
      InetAddress address, String host, int port, String path, long timeoutMs, String prober) {
    long timer =
        vertx.setTimer(
            timeoutMs,
            t ->
                stop(
                    outcome.tryFail(
                        new TimeoutException("no complete answer within " + timeoutMs + " ms"))));
    RequestOptions options =
        new RequestOptions()
            .setMethod(HttpMethod.GET)
            .setServer(SocketAddress.inetSocketAddress(port, address.getHostAddress()))
            .setHost(host)
            .setPort(port)
            .setURI(path)
            .setConnectTimeout(timeoutMs)
            .putHeader("user-agent", "teller-health-check")
            // Which registry node probes: lets an operator (and a test) see that exactly one does.
            .putHeader("x-teller-prober", prober);
    client
        .request(options)
        .onFailure(outcome::tryFail)
        .onSuccess(
            sent -> {
              request = sent;
              if (outcome.future().isComplete()) {
                stop(true); // timed out while connecting
                return;
              }
              sent.send().onFailure(outcome::tryFail).onSuccess(this::read);
            });
    return outcome.future().onComplete(done -> vertx.cancelTimer(timer));
  }

  private void read(HttpClientResponse response) {
    int status = response.statusCode();
    response.exceptionHandler(outcome::tryFail);
    response.handler(
        chunk -> {
          read += chunk.length();
          if (read > MAX_BODY_BYTES) {
            stop(outcome.tryComplete(status));
          }
        });
    response.endHandler(v -> outcome.tryComplete(status));
  }

  /** Resets the request (its connection closes) if {@code now}, and once it exists. */
  private void stop(boolean now) {
    if (now && request != null) {
      request.reset();
    }
  }
}
