package io.teller.balancer.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.common.model.Route;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RouteTableTest {

  record Req(String host, String path, String method, Map<String, String> headers)
      implements RequestFacts {
    static Req of(String host, String path) {
      return new Req(host, path, "GET", Map.of());
    }

    @Override
    public String header(String name) {
      return headers.get(name.toLowerCase());
    }
  }

  static Route route(
      List<String> hosts, String prefix, Map<String, String> headers, List<String> methods) {
    return new Route(hosts, prefix, headers, methods);
  }

  static String serviceFor(RouteTable table, Req request) {
    RouteTable.Match match = table.match(request);
    return match == null ? null : match.service();
  }

  @Test
  void exactHostBeatsWildcardBeatsNone() {
    Map<String, List<Route>> routes = new LinkedHashMap<>();
    routes.put("any", List.of(route(List.of(), "/", Map.of(), List.of())));
    routes.put("wild", List.of(route(List.of("*.example.com"), "/", Map.of(), List.of())));
    routes.put(
        "deeper-wild", List.of(route(List.of("*.api.example.com"), "/", Map.of(), List.of())));
    routes.put("exact", List.of(route(List.of("shop.example.com"), "/", Map.of(), List.of())));
    RouteTable table = RouteTable.build(routes);

    assertThat(serviceFor(table, Req.of("shop.example.com", "/x"))).isEqualTo("exact");
    assertThat(serviceFor(table, Req.of("blog.example.com", "/x"))).isEqualTo("wild");
    assertThat(serviceFor(table, Req.of("v1.api.example.com", "/x"))).isEqualTo("deeper-wild");
    assertThat(serviceFor(table, Req.of("a.b.example.com", "/x"))).isEqualTo("wild");
    // The wildcard covers subdomains only.
    assertThat(serviceFor(table, Req.of("example.com", "/x"))).isEqualTo("any");
    assertThat(serviceFor(table, Req.of("other.org", "/x"))).isEqualTo("any");
  }

  @Test
  void aHostRouteThatDoesNotMatchOnPathFallsThroughToLessSpecificHosts() {
    Map<String, List<Route>> routes = new LinkedHashMap<>();
    routes.put(
        "exact-api", List.of(route(List.of("shop.example.com"), "/api", Map.of(), List.of())));
    routes.put("fallback", List.of(route(List.of(), "/", Map.of(), List.of())));
    RouteTable table = RouteTable.build(routes);
    assertThat(serviceFor(table, Req.of("shop.example.com", "/api/cart"))).isEqualTo("exact-api");
    assertThat(serviceFor(table, Req.of("shop.example.com", "/images/a.png")))
        .isEqualTo("fallback");
  }

  @Test
  void longestPathPrefixWinsAtSegmentBoundaries() {
    Map<String, List<Route>> routes = new LinkedHashMap<>();
    routes.put("root", List.of(route(List.of(), "/", Map.of(), List.of())));
    routes.put("api", List.of(route(List.of(), "/api", Map.of(), List.of())));
    routes.put("api-v2", List.of(route(List.of(), "/api/v2", Map.of(), List.of())));
    RouteTable table = RouteTable.build(routes);
    assertThat(serviceFor(table, Req.of("h", "/api/v2/users"))).isEqualTo("api-v2");
    assertThat(serviceFor(table, Req.of("h", "/api/v2"))).isEqualTo("api-v2");
    assertThat(serviceFor(table, Req.of("h", "/api/v22"))).isEqualTo("api");
    assertThat(serviceFor(table, Req.of("h", "/api"))).isEqualTo("api");
    assertThat(serviceFor(table, Req.of("h", "/apix"))).isEqualTo("root");
    assertThat(serviceFor(table, Req.of("h", "/"))).isEqualTo("root");
  }

  @Test
  void headersAndMethodsMustAllMatchAndMakeARouteMoreSpecific() {
    Map<String, List<Route>> routes = new LinkedHashMap<>();
    routes.put("stable", List.of(route(List.of(), "/app", Map.of(), List.of())));
    routes.put("beta", List.of(route(List.of(), "/app", Map.of("x-env", "beta"), List.of())));
    routes.put("writes", List.of(route(List.of(), "/app", Map.of(), List.of("POST", "PUT"))));
    RouteTable table = RouteTable.build(routes);
    assertThat(serviceFor(table, Req.of("h", "/app"))).isEqualTo("stable");
    assertThat(serviceFor(table, new Req("h", "/app", "GET", Map.of("x-env", "beta"))))
        .isEqualTo("beta");
    assertThat(serviceFor(table, new Req("h", "/app", "GET", Map.of("x-env", "prod"))))
        .isEqualTo("stable");
    assertThat(serviceFor(table, new Req("h", "/app", "POST", Map.of()))).isEqualTo("writes");
  }

  @Test
  void tiesAreBrokenTheSameWayEveryTime() {
    for (int attempt = 0; attempt < 5; attempt++) {
      Map<String, List<Route>> routes = new LinkedHashMap<>();
      // Inserted in a different order each time.
      List<String> names =
          attempt % 2 == 0 ? List.of("zeta", "alpha", "mid") : List.of("mid", "zeta", "alpha");
      names.forEach(n -> routes.put(n, List.of(route(List.of(), "/same", Map.of(), List.of()))));
      assertThat(serviceFor(RouteTable.build(routes), Req.of("h", "/same"))).isEqualTo("alpha");
    }
  }

  @Test
  void noRouteIsNull() {
    Map<String, List<Route>> routes =
        Map.of("api", List.of(route(List.of("a.com"), "/api", Map.of(), List.of())));
    assertThat(RouteTable.build(routes).match(Req.of("b.com", "/api"))).isNull();
    assertThat(RouteTable.empty().match(Req.of("a.com", "/"))).isNull();
  }

  @Test
  void stripPrefixKeepsALeadingSlashAndTheQuery() {
    assertThat(RouteTable.strip("/api", "/api/users?x=1")).isEqualTo("/users?x=1");
    assertThat(RouteTable.strip("/api", "/api")).isEqualTo("/");
    assertThat(RouteTable.strip("/api", "/api?x=1")).isEqualTo("/?x=1");
    assertThat(RouteTable.strip("/api/", "/api/users")).isEqualTo("/users");
    assertThat(RouteTable.strip("/", "/users")).isEqualTo("/users");
  }
}
