package io.teller.common.model;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A request matcher of a service. A request matches when every field given matches: its host is one
 * of {@code hosts} (exact, or {@code *.suffix} for any subdomain), its path starts with {@code
 * pathPrefix} (at a segment boundary), each of {@code headers} has exactly that value, and its
 * method is one of {@code methods}. A field left out matches everything.
 */
public record Route(
    List<String> hosts, String pathPrefix, Map<String, String> headers, List<String> methods) {

  private static final Set<String> FIELDS = Set.of("hosts", "pathPrefix", "headers", "methods");
  private static final Pattern HOST =
      Pattern.compile(
          "(\\*\\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");
  private static final Pattern HEADER_NAME = Pattern.compile("[A-Za-z0-9!#$%&'*+.^_`|~-]+");
  private static final Set<String> METHODS =
      Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT");

  public Route {
    hosts = List.copyOf(hosts);
    headers = Map.copyOf(headers);
    methods = List.copyOf(methods);
  }

  /** The route a service gets when none is given: everything under {@code /<name>}. */
  public static Route prefix(String pathPrefix) {
    return new Route(List.of(), pathPrefix, Map.of(), List.of());
  }

  /** Reads and validates a route; {@code at} is its JSON path, e.g. {@code routes[0]}. */
  public static Route fromJson(JsonObject json, String at) {
    Json.onlyKnownFields(json, at, FIELDS);
    List<String> hosts =
        Json.strings(json, at, "hosts").stream().map(h -> h.toLowerCase(Locale.ROOT)).toList();
    for (int i = 0; i < hosts.size(); i++) {
      if (!HOST.matcher(hosts.get(i)).matches() || hosts.get(i).length() > 253) {
        throw new ValidationException(
            at + ".hosts[" + i + "]", "must be a host name, or *.suffix for its subdomains");
      }
    }
    String pathPrefix = Json.string(json, at, "pathPrefix", null);
    if (pathPrefix != null
        && (!pathPrefix.startsWith("/")
            || pathPrefix.contains("?")
            || pathPrefix.contains("#")
            || pathPrefix.chars().anyMatch(c -> c <= ' '))) {
      throw new ValidationException(
          at + ".pathPrefix", "must start with / and hold no spaces, ? or #");
    }
    Map<String, String> headers = Json.stringMap(json, at, "headers");
    for (String name : headers.keySet()) {
      if (!HEADER_NAME.matcher(name).matches()) {
        throw new ValidationException(at + ".headers." + name, "is not a valid header name");
      }
    }
    List<String> methods = Json.strings(json, at, "methods");
    for (int i = 0; i < methods.size(); i++) {
      if (!METHODS.contains(methods.get(i))) {
        throw new ValidationException(
            at + ".methods[" + i + "]", "must be an HTTP method in upper case, e.g. GET");
      }
    }
    if (hosts.isEmpty() && pathPrefix == null && headers.isEmpty() && methods.isEmpty()) {
      throw new ValidationException(
          at, "must give at least one of hosts, pathPrefix, headers, methods");
    }
    return new Route(hosts, pathPrefix, headers, methods);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject();
    if (!hosts.isEmpty()) {
      json.put("hosts", new JsonArray(hosts));
    }
    if (pathPrefix != null) {
      json.put("pathPrefix", pathPrefix);
    }
    if (!headers.isEmpty()) {
      json.put("headers", new JsonObject(Map.copyOf(headers)));
    }
    if (!methods.isEmpty()) {
      json.put("methods", new JsonArray(methods));
    }
    return json;
  }
}
