package io.teller.balancer.routing;

import io.teller.common.model.Route;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Matches a request to a service. Immutable; built from every service's routes.
 *
 * <p>Order of precedence: the most specific host first — routes naming the exact host, then routes
 * with a {@code *.suffix} wildcard (the longest suffix first), then routes with no host — and
 * within each, the longest path prefix, then the route with more header and method matchers.
 * Remaining ties go by service name, then by the route's position, so the same table always answers
 * the same way. A path prefix matches at a segment boundary: {@code /api} matches {@code /api} and
 * {@code /api/x}, not {@code /apix}.
 */
public final class RouteTable {

  /** A route of a service, compiled for matching. */
  public record Entry(String service, Route route, int index) {

    int prefixLength() {
      return route.pathPrefix() == null ? 0 : route.pathPrefix().length();
    }

    int matcherCount() {
      return route.headers().size() + (route.methods().isEmpty() ? 0 : 1);
    }

    /** Whether path, headers and method match (the host was matched by the caller). */
    boolean matchesRest(RequestFacts request) {
      String prefix = route.pathPrefix();
      if (prefix != null && !prefixMatches(prefix, request.path())) {
        return false;
      }
      if (!route.methods().isEmpty() && !route.methods().contains(request.method())) {
        return false;
      }
      for (Map.Entry<String, String> header : route.headers().entrySet()) {
        if (!header.getValue().equals(request.header(header.getKey()))) {
          return false;
        }
      }
      return true;
    }
  }

  /** A match: the service, and the path prefix that matched (for {@code stripPrefix}). */
  public record Match(String service, String pathPrefix) {}

  private static final Comparator<Entry> WITHIN_HOST_CLASS =
      Comparator.comparingInt(Entry::prefixLength)
          .reversed()
          .thenComparing(Comparator.comparingInt(Entry::matcherCount).reversed())
          .thenComparing(Entry::service)
          .thenComparingInt(Entry::index);

  private final Map<String, List<Entry>> byExactHost;
  private final List<Map.Entry<String, List<Entry>>> byWildcard;
  private final List<Entry> anyHost;

  private RouteTable(
      Map<String, List<Entry>> byExactHost,
      List<Map.Entry<String, List<Entry>>> byWildcard,
      List<Entry> anyHost) {
    this.byExactHost = byExactHost;
    this.byWildcard = byWildcard;
    this.anyHost = anyHost;
  }

  /** An empty table: matches nothing. */
  public static RouteTable empty() {
    return build(Map.of());
  }

  /** Builds a table from each service's routes. */
  public static RouteTable build(Map<String, List<Route>> routesByService) {
    Map<String, List<Entry>> exact = new HashMap<>();
    Map<String, List<Entry>> wildcard = new HashMap<>();
    List<Entry> any = new ArrayList<>();
    routesByService.forEach(
        (service, routes) -> {
          for (int i = 0; i < routes.size(); i++) {
            Route route = routes.get(i);
            Entry entry = new Entry(service, route, i);
            if (route.hosts().isEmpty()) {
              any.add(entry);
            }
            for (String host : route.hosts()) {
              if (host.startsWith("*.")) {
                wildcard.computeIfAbsent(host.substring(1), k -> new ArrayList<>()).add(entry);
              } else {
                exact.computeIfAbsent(host, k -> new ArrayList<>()).add(entry);
              }
            }
          }
        });
    exact.values().forEach(list -> list.sort(WITHIN_HOST_CLASS));
    wildcard.values().forEach(list -> list.sort(WITHIN_HOST_CLASS));
    any.sort(WITHIN_HOST_CLASS);
    List<Map.Entry<String, List<Entry>>> wildcards = new ArrayList<>(wildcard.entrySet());
    // Longest suffix first: *.api.example.com before *.example.com.
    wildcards.sort(
        Comparator.<Map.Entry<String, List<Entry>>>comparingInt(e -> e.getKey().length())
            .reversed()
            .thenComparing(Map.Entry::getKey));
    Map<String, List<Entry>> frozenExact = new HashMap<>();
    exact.forEach((host, list) -> frozenExact.put(host, List.copyOf(list)));
    return new RouteTable(
        Map.copyOf(frozenExact),
        wildcards.stream().map(e -> Map.entry(e.getKey(), List.copyOf(e.getValue()))).toList(),
        List.copyOf(any));
  }

  /** The service for {@code request}, or null when no route matches. */
  public Match match(RequestFacts request) {
    String host = request.host();
    List<Entry> exact = byExactHost.get(host);
    if (exact != null) {
      Entry hit = first(exact, request);
      if (hit != null) {
        return match(hit);
      }
    }
    for (Map.Entry<String, List<Entry>> wildcard : byWildcard) {
      // "*.example.com" covers a.example.com and a.b.example.com, not example.com itself.
      if (host.length() > wildcard.getKey().length() && host.endsWith(wildcard.getKey())) {
        Entry hit = first(wildcard.getValue(), request);
        if (hit != null) {
          return match(hit);
        }
      }
    }
    Entry hit = first(anyHost, request);
    return hit == null ? null : match(hit);
  }

  private static Match match(Entry entry) {
    return new Match(entry.service(), entry.route().pathPrefix());
  }

  private static Entry first(List<Entry> entries, RequestFacts request) {
    for (Entry entry : entries) {
      if (entry.matchesRest(request)) {
        return entry;
      }
    }
    return null;
  }

  static boolean prefixMatches(String prefix, String path) {
    if (!path.startsWith(prefix)) {
      return false;
    }
    return path.length() == prefix.length()
        || prefix.endsWith("/")
        || path.charAt(prefix.length()) == '/';
  }

  /**
   * The path to forward when {@code stripPrefix} is on: the part after the matched prefix, always
   * starting with {@code /}; the query string is kept.
   */
  public static String strip(String prefix, String uri) {
    if (prefix == null || prefix.equals("/")) {
      return uri;
    }
    String rest = uri.substring(Math.min(prefix.length(), uri.length()));
    if (rest.isEmpty()) {
      return "/";
    }
    if (rest.charAt(0) == '?') {
      return "/" + rest;
    }
    return rest.charAt(0) == '/' ? rest : "/" + rest;
  }
}
