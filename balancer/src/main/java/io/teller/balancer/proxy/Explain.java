package io.teller.balancer.proxy;

import io.teller.balancer.counting.InFlight;
import io.teller.balancer.resilience.Resilience;
import io.teller.balancer.routing.ServicePool;
import io.teller.balancer.strategy.Endpoint;
import io.teller.balancer.strategy.LoadCounts;
import io.teller.common.auth.ApiToken;
import io.teller.common.model.Service;
import io.teller.common.net.CidrSet;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Why a request went where it went, for a client allowed to ask ({@code X-Teller-Explain: 1} with
 * the API token in {@code X-Teller-Token}, or from {@code proxy.trusted.cidrs}): the route matched,
 * the service and its strategy, each candidate with its weight, slow-start factor, this balancer's
 * and the other balancers' in-flight counts and whether it was ejected or already tried, which one
 * was picked and why, and each attempt's outcome. One line, sent back as the response header {@code
 * X-Teller-Explain} and written whole to the access log. Built only for such a request; no other
 * request pays for it.
 */
final class Explain {

  /** The request header that asks, and the response header that answers. */
  static final String HEADER = "x-teller-explain";

  /** The request header that carries the API token for it. */
  static final String TOKEN_HEADER = "x-teller-token";

  /** Candidates named in the header; a service with more is summarised after them. */
  private static final int MAX_CANDIDATES = 16;

  /**
   * An explanation for {@code request} if it asks for one and may have it: the API token in {@link
   * #TOKEN_HEADER}, or a client in {@code trusted}; else null (and the request is served as any
   * other: the headers never reach the instance, and nothing says they were seen).
   */
  static Explain ifAllowed(
      io.vertx.core.http.HttpServerRequest request, ApiToken token, CidrSet trusted) {
    if (!"1".equals(request.getHeader(HEADER))) {
      return null;
    }
    String given = request.getHeader(TOKEN_HEADER);
    boolean allowed =
        (token != null && given != null && token.accepts("Bearer " + given))
            || (request.remoteAddress() != null
                && trusted.contains(request.remoteAddress().hostAddress()));
    return allowed ? new Explain() : null;
  }

  private final StringBuilder text = new StringBuilder();
  private final List<String> attempts = new ArrayList<>(2);

  void route(String service, String prefix) {
    text.append("route ")
        .append(prefix == null ? "/" : prefix)
        .append(" -> service ")
        .append(service);
  }

  /** The pick of one attempt: every candidate, and the chosen one with the reason. */
  void picked(
      ServicePool pool,
      Endpoint picked,
      Set<String> tried,
      String sticky,
      InFlight local,
      LoadCounts counts,
      Resilience resilience) {
    Service service = pool.service();
    long now = System.currentTimeMillis();
    String strategy = service.strategy();
    boolean shared = service.sharedCounts();
    List<Candidate> candidates = new ArrayList<>();
    boolean allEjected = true;
    for (Endpoint endpoint : pool.endpoints().values()) {
      long mine = local.inFlight(endpoint.id());
      long total = shared ? counts.inFlight(endpoint.id()) : mine;
      double factor = pool.slowStartFactor(endpoint.id(), now);
      boolean ejected = resilience.isEjected(endpoint.id());
      allEjected &= ejected;
      candidates.add(
          new Candidate(
              endpoint.id(),
              endpoint.weight(),
              factor,
              mine,
              total - mine,
              ejected,
              tried.contains(endpoint.id())));
    }
    if (text.length() > 0) {
      text.append("; ");
    }
    text.append("strategy ").append(strategy);
    if ("consistent-hash".equals(strategy)) {
      text.append(" on ").append(service.hashOn());
    }
    if (!shared) {
      text.append(" (this balancer's counts only)");
    }
    text.append("; candidates:");
    candidates.sort(Comparator.comparingDouble(Candidate::score).thenComparing(Candidate::id));
    int shown = 0;
    for (Candidate c : candidates) {
      if (shown++ == MAX_CANDIDATES) {
        text.append(" ... ").append(candidates.size() - MAX_CANDIDATES).append(" more");
        break;
      }
      text.append(' ').append(c.id()).append(" weight ").append(c.weight());
      if (c.factor() < 1) {
        text.append(" slow-start ").append(format(c.factor()));
      }
      text.append(" in-flight ").append(c.local()).append('+').append(c.peers()).append(" peers");
      if (c.ejected()) {
        text.append(" ejected");
      }
      if (c.tried()) {
        text.append(" tried");
      }
      text.append(',');
    }
    text.setLength(text.length() - (text.charAt(text.length() - 1) == ',' ? 1 : 0));
    if (picked == null) {
      text.append("; picked none: every instance is tried or none may take traffic");
      return;
    }
    text.append("; picked ").append(picked.id()).append(": ");
    if (picked.id().equals(sticky)) {
      text.append("its sticky cookie");
    } else {
      Candidate chosen =
          candidates.stream().filter(c -> c.id().equals(picked.id())).findFirst().orElse(null);
      switch (strategy) {
        case "least-connections" -> text.append("least ").append(comparison(chosen, candidates));
        case "random-two-choices" ->
            text.append("the less loaded of two random choices, ")
                .append(comparison(chosen, candidates));
        case "round-robin" -> text.append("next in the rotation");
        case "weighted-round-robin" -> text.append("next in the weighted rotation");
        case "consistent-hash" -> text.append("its key's place on the hash ring");
        default -> text.append(strategy);
      }
    }
    if (allEjected && !candidates.isEmpty()) {
      text.append(" (every instance ejected: all used, the panic threshold)");
    }
  }

  /** {@code b 0.33 = 1/3 over a 0.50 = 2/4}: (in-flight + 1) / effective weight. */
  private static String comparison(Candidate chosen, List<Candidate> candidates) {
    if (chosen == null) {
      return "";
    }
    StringBuilder out = new StringBuilder(chosen.describeScore());
    String separator = " over ";
    int n = 0;
    for (Candidate c : candidates) {
      if (c == chosen || c.ejected() || c.tried()) {
        continue;
      }
      out.append(separator).append(c.id()).append(' ').append(c.describeScore());
      separator = ", ";
      if (++n == 3) {
        break;
      }
    }
    return out.toString();
  }

  void attempt(String instance, String outcome) {
    attempts.add(instance + " " + outcome);
  }

  /** The explanation as one header-safe line. */
  String render() {
    StringBuilder out = new StringBuilder(text);
    if (!attempts.isEmpty()) {
      out.append("; attempts: ").append(String.join(", ", attempts));
    }
    for (int i = 0; i < out.length(); i++) {
      char c = out.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        out.setCharAt(i, '?');
      }
    }
    return out.toString();
  }

  private static String format(double value) {
    return String.format(Locale.ROOT, "%.2f", value);
  }

  private record Candidate(
      String id,
      int weight,
      double factor,
      long local,
      long peers,
      boolean ejected,
      boolean tried) {

    double effectiveWeight() {
      return weight * factor;
    }

    double score() {
      double weight = effectiveWeight();
      return weight <= 0 ? Double.MAX_VALUE : (local + peers + 1) / weight;
    }

    String describeScore() {
      double weight = effectiveWeight();
      String w = factor < 1 ? format(weight) : Integer.toString(this.weight);
      return (weight <= 0 ? "inf" : format(score())) + " = " + (local + peers + 1) + "/" + w;
    }
  }
}
