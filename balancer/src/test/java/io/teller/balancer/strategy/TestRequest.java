package io.teller.balancer.strategy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** A request as a picker sees it, built up in tests. */
record TestRequest(
    String clientAddress,
    Map<String, String> headers,
    Map<String, String> cookies,
    Set<String> excluded,
    String stickyEndpointId)
    implements PickContext {

  static final TestRequest ANY = from("192.0.2.1");

  static TestRequest from(String clientAddress) {
    return new TestRequest(clientAddress, Map.of(), Map.of(), Set.of(), null);
  }

  TestRequest header(String name, String value) {
    Map<String, String> copy = new HashMap<>(headers);
    copy.put(name.toLowerCase(Locale.ROOT), value);
    return new TestRequest(clientAddress, copy, cookies, excluded, stickyEndpointId);
  }

  TestRequest cookie(String name, String value) {
    Map<String, String> copy = new HashMap<>(cookies);
    copy.put(name, value);
    return new TestRequest(clientAddress, headers, copy, excluded, stickyEndpointId);
  }

  TestRequest excluding(String... ids) {
    return new TestRequest(clientAddress, headers, cookies, Set.of(ids), stickyEndpointId);
  }

  TestRequest sticky(String id) {
    return new TestRequest(clientAddress, headers, cookies, excluded, id);
  }

  @Override
  public String header(String name) {
    return headers.get(name.toLowerCase(Locale.ROOT));
  }

  @Override
  public String cookie(String name) {
    return cookies.get(name);
  }

  /** Endpoints of weight 1 with these ids. */
  static List<Endpoint> endpoints(String... ids) {
    List<Endpoint> endpoints = new ArrayList<>();
    for (int i = 0; i < ids.length; i++) {
      endpoints.add(new Endpoint(ids[i], "10.0.0." + (i + 1), 8080, 1));
    }
    return endpoints;
  }

  /** An endpoint of this weight. */
  static Endpoint endpoint(String id, int weight) {
    return new Endpoint(id, "backend-" + id, 8080, weight);
  }

  /** An endpoint of this weight whose slow-start ramp began at {@code fromMillis}. */
  static Endpoint ramping(String id, int weight, long fromMillis) {
    return new Endpoint(id, "backend-" + id, 8080, weight, fromMillis);
  }

  /** Loads from alternating ids and counts: {@code loads("a", 3, "b", 1)}; 0 for others. */
  static LoadCounts loads(Object... idsAndCounts) {
    Map<String, Long> counts = new HashMap<>();
    for (int i = 0; i < idsAndCounts.length; i += 2) {
      counts.put((String) idsAndCounts[i], ((Number) idsAndCounts[i + 1]).longValue());
    }
    return id -> counts.getOrDefault(id, 0L);
  }

  /** Picks {@code times} times and returns the ids in order. */
  static List<String> picks(Picker picker, PickContext context, int times) {
    List<String> ids = new ArrayList<>(times);
    for (int i = 0; i < times; i++) {
      ids.add(picker.pick(context).id());
    }
    return ids;
  }

  /** Picks {@code times} times and counts the picks of each id. */
  static Map<String, Integer> counts(Picker picker, PickContext context, int times) {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < times; i++) {
      counts.merge(picker.pick(context).id(), 1, Integer::sum);
    }
    return counts;
  }
}
