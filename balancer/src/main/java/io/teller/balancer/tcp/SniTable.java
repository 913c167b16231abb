package io.teller.balancer.tcp;

import io.teller.common.model.Route;
import io.teller.common.model.Service;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Finds the service for a TLS server name by the hosts of the services' routes, as the L7 route
 * table does for a Host header: an exact host first, then {@code *.suffix} wildcards, the longest
 * suffix first ({@code *.example.com} covers {@code a.example.com} and {@code a.b.example.com}, not
 * {@code example.com}). A name claimed by several services goes to the first by name. Paths,
 * headers and methods of the routes play no part: the bytes are encrypted. Immutable.
 */
public final class SniTable {

  private final Map<String, String> exact;
  private final List<Map.Entry<String, String>> wildcards;

  private SniTable(Map<String, String> exact, List<Map.Entry<String, String>> wildcards) {
    this.exact = exact;
    this.wildcards = wildcards;
  }

  /** Builds the table from every service's route hosts. */
  public static SniTable build(Collection<Service> services) {
    Map<String, String> exact = new HashMap<>();
    Map<String, String> wildcard = new TreeMap<>();
    services.stream()
        .sorted(Comparator.comparing(Service::name))
        .forEach(
            service -> {
              for (Route route : service.routes()) {
                for (String host : route.hosts()) {
                  if (host.startsWith("*.")) {
                    wildcard.putIfAbsent(host.substring(1), service.name());
                  } else {
                    exact.putIfAbsent(host, service.name());
                  }
                }
              }
            });
    List<Map.Entry<String, String>> wildcards = new ArrayList<>(wildcard.entrySet());
    wildcards.sort(
        Comparator.<Map.Entry<String, String>>comparingInt(e -> e.getKey().length())
            .reversed()
            .thenComparing(Map.Entry::getKey));
    return new SniTable(
        Map.copyOf(exact),
        wildcards.stream().map(e -> Map.entry(e.getKey(), e.getValue())).toList());
  }

  /** The service for {@code serverName} (lower case), or null. */
  public String service(String serverName) {
    if (serverName == null || serverName.isEmpty()) {
      return null;
    }
    String hit = exact.get(serverName);
    if (hit != null) {
      return hit;
    }
    for (Map.Entry<String, String> wildcard : wildcards) {
      if (serverName.length() > wildcard.getKey().length()
          && serverName.endsWith(wildcard.getKey())) {
        return wildcard.getValue();
      }
    }
    return null;
  }
}
