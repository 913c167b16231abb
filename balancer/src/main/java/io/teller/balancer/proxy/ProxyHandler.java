package io.teller.balancer.proxy;

import io.teller.balancer.counting.InFlight;
import io.teller.balancer.edge.Http1Guard;
import io.teller.balancer.metrics.ProxyMetrics;
import io.teller.balancer.resilience.Failure;
import io.teller.balancer.resilience.Resilience;
import io.teller.balancer.routing.Routing;
import io.teller.balancer.strategy.LoadCounts;
import io.teller.common.auth.ApiToken;
import io.teller.common.net.CidrSet;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import java.util.function.Supplier;

/**
 * The request path, as one chain of stages, each its own class:
 *
 * <ol>
 *   <li>{@link RouteStage route}: the service, from the latest {@link Routing} (a local read);
 *   <li>{@link Admission admit}: the retry budget counts it; its limits and the request the
 *       instance will get;
 *   <li>{@link Attempts attempts}: pick, lease, connect, send, wait for the answer's headers; the
 *       next attempt on another instance when the {@link Resilience} policy allows;
 *   <li>{@link Relay relay} the answer, or {@link Tunnel tunnel} an upgrade the instance agreed to;
 *   <li>{@link Finish finish}, once the answer is complete or the client gone: the lease given
 *       back, the answer metered and logged.
 * </ol>
 *
 * Every stage fails with a {@link Failure}, which says who is at fault; {@link Failures} is the one
 * exit: it counts the failure once and turns it into the answer. No stage answers the client on its
 * own. A client that leaves, and the response timeout ({@link ResponseDeadlines}), cancel the
 * exchange: the stage waiting on the instance then fails with that cause.
 *
 * <p>The instance side runs on Netty channels ({@link Upstream}), not on Vert.x's HTTP client,
 * which cost more CPU per request (see {@link Upstream}); upgrades still use Vert.x's client.
 * Written on these rather than vertx-http-proxy 5.0.7, whose error responses bypass its
 * interceptors (so an in-flight count could not be released exactly once), which has no
 * response-header timeout or retry to another origin, and which passes the backend's {@code
 * Connection} header on to HTTP/2 clients (upstream issue #152). Instances are picked by Teller's
 * own strategies rather than core's {@code io.vertx.core.net.endpoint} balancers, because picks
 * need routes, exclusions on retry, sticky cookies and counts shared across balancers.
 */
public final class ProxyHandler implements Handler<HttpServerRequest> {

  /** The balancer-wide timeouts that a service's own timeouts override. */
  public record Defaults(int connectMillis, int responseMillis, int idleMillis) {}

  /**
   * What the balancer accepts of a request beyond its framing.
   *
   * @param allowEncodedSeparators whether paths may carry {@code %2F}, {@code %5C}, {@code %2E}
   * @param trustedProxies clients whose {@code X-Forwarded-For} and {@code Forwarded} are kept
   *     (appended to); everyone else's are replaced
   */
  public record RequestRules(boolean allowEncodedSeparators, CidrSet trustedProxies) {
    public static final RequestRules DEFAULTS = new RequestRules(false, CidrSet.empty());
  }

  private final RouteStage route;
  private final Admission admission;
  private final Attempts attempts;
  private final Relay relay;
  private final Tunnel tunnel;
  private final Finish finish;
  private final Failures failures;
  private final RequestRules rules;
  private final ApiToken token;

  /**
   * @param clients this event loop's clients to the backends (keep-alive pools per instance)
   * @param deadlines this event loop's response timeouts
   * @param routing the latest routing
   * @param inFlight this balancer's in-flight counts
   * @param scheme {@code https} or {@code http}: what clients used
   * @param defaults the timeouts of services that set none
   * @param resilience retries, ejections and the counting of failures
   */
  ProxyHandler(
      BackendClients clients,
      ResponseDeadlines deadlines,
      Supplier<Routing> routing,
      InFlight inFlight,
      String scheme,
      Defaults defaults,
      Resilience resilience,
      ProxyMetrics metrics,
      AccessLog accessLog,
      RequestRules rules,
      Http1Guard.Rejections rejections,
      LoadCounts counts,
      ApiToken token) {
    this.rules = rules;
    this.token = token;
    this.route = new RouteStage(routing, rules.allowEncodedSeparators());
    this.admission = new Admission(defaults, resilience, scheme, rules.trustedProxies());
    this.attempts = new Attempts(clients, inFlight, counts, resilience, deadlines);
    this.relay = new Relay(scheme);
    this.tunnel = new Tunnel(scheme);
    this.finish = new Finish(metrics, accessLog);
    this.failures = new Failures(resilience, rejections);
  }

  @Override
  public void handle(HttpServerRequest request) {
    Exchange exchange = new Exchange(request, finish);
    exchange.explain = Explain.ifAllowed(request, token, rules.trustedProxies());
    Failure unrouted = route.route(exchange);
    if (unrouted != null) {
      failures.fail(exchange, unrouted);
      return;
    }
    admission.admit(exchange);
    attempts
        .run(exchange)
        .compose(
            answer ->
                exchange.switchesProtocols(answer)
                    ? tunnel.open(exchange, answer)
                    : relay.stream(exchange, answer))
        .onFailure(cause -> failures.fail(exchange, exchange.explain(cause)));
  }
}
