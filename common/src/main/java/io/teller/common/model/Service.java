package io.teller.common.model;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A service: a name, the routes that send requests to it, and how its instances are picked, checked
 * and drained. Immutable; {@code revision} is the registry revision of its last change (0 before it
 * is stored).
 *
 * @param name a DNS label: 1-63 of {@code a-z 0-9 -}, not starting or ending with {@code -}
 * @param routes request matchers; a request matching any of them goes to this service
 * @param stripPrefix remove the matched path prefix before forwarding
 * @param strategy how an instance is picked, one of {@link #STRATEGIES}
 * @param hashOn the key of {@code consistent-hash}: {@code client-address}, {@code header:NAME} or
 *     {@code cookie:NAME}
 * @param stickyCookie if set, the name of a cookie that pins a client to the instance it first got
 * @param healthCheck active health check, or null for none
 * @param drainTimeoutMs how long a deregistered instance keeps serving its open requests
 * @param sharedCounts whether least-connection strategies count every balancer's requests (true) or
 *     only their own balancer's
 * @param timeouts this service's proxy timeouts, each one null for the balancer's default
 * @param tcpPort if set (1-65535), every balancer also listens on this port and forwards raw TCP
 *     connections (L4) to the service's instances; null for none
 * @param slowStart how a newly eligible instance is eased in, or null for not at all (the default)
 * @param upgrades the protocols a client may switch to through the balancer (HTTP/1.1 {@code
 *     Upgrade}), lower case; {@link #DEFAULT_UPGRADES} ({@code websocket}) when not set. {@code
 *     h2c} is never one of them
 * @param revision registry revision of the last change
 */
public record Service(
    String name,
    List<Route> routes,
    boolean stripPrefix,
    String strategy,
    String hashOn,
    String stickyCookie,
    HealthCheck healthCheck,
    int drainTimeoutMs,
    boolean sharedCounts,
    ServiceTimeouts timeouts,
    Integer tcpPort,
    SlowStart slowStart,
    List<String> upgrades,
    long revision) {

  /** The protocols a client may switch to when a service names none. */
  public static final List<String> DEFAULT_UPGRADES = List.of("websocket");

  /** The strategies the balancer offers. */
  public static final List<String> STRATEGIES =
      List.of(
          "round-robin",
          "weighted-round-robin",
          "least-connections",
          "random-two-choices",
          "consistent-hash");

  public static final String DEFAULT_STRATEGY = "round-robin";
  public static final String DEFAULT_HASH_ON = "client-address";
  public static final int DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

  private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9!#$%&'*+.^_`|~-]+");
  private static final Set<String> FIELDS =
      Set.of(
          "name",
          "routes",
          "stripPrefix",
          "strategy",
          "hashOn",
          "stickyCookie",
          "healthCheck",
          "drainTimeoutMs",
          "sharedCounts",
          "timeouts",
          "tcpPort",
          "slowStart",
          "upgrades",
          "revision");

  public Service {
    routes = List.copyOf(routes);
    timeouts = timeouts == null ? ServiceTimeouts.DEFAULTS : timeouts;
    upgrades =
        upgrades == null
            ? DEFAULT_UPGRADES
            : upgrades.stream().map(u -> u.toLowerCase(java.util.Locale.ROOT)).toList();
  }

  /** A service whose clients may switch protocols to WebSocket only. */
  public Service(
      String name,
      List<Route> routes,
      boolean stripPrefix,
      String strategy,
      String hashOn,
      String stickyCookie,
      HealthCheck healthCheck,
      int drainTimeoutMs,
      boolean sharedCounts,
      ServiceTimeouts timeouts,
      Integer tcpPort,
      SlowStart slowStart,
      long revision) {
    this(
        name,
        routes,
        stripPrefix,
        strategy,
        hashOn,
        stickyCookie,
        healthCheck,
        drainTimeoutMs,
        sharedCounts,
        timeouts,
        tcpPort,
        slowStart,
        null,
        revision);
  }

  /** A service without slow start. */
  public Service(
      String name,
      List<Route> routes,
      boolean stripPrefix,
      String strategy,
      String hashOn,
      String stickyCookie,
      HealthCheck healthCheck,
      int drainTimeoutMs,
      boolean sharedCounts,
      ServiceTimeouts timeouts,
      Integer tcpPort,
      long revision) {
    this(
        name,
        routes,
        stripPrefix,
        strategy,
        hashOn,
        stickyCookie,
        healthCheck,
        drainTimeoutMs,
        sharedCounts,
        timeouts,
        tcpPort,
        null,
        null,
        revision);
  }

  /** What a service gets when an instance registers before anyone defined it. */
  public static Service withDefaults(String name) {
    return withDefaults(name, "/" + name);
  }

  /** As {@link #withDefaults(String)}, routed on {@code pathPrefix} instead of {@code /<name>}. */
  public static Service withDefaults(String name, String pathPrefix) {
    checkName(name, "name");
    return new Service(
        name,
        List.of(Route.prefix(pathPrefix)),
        false,
        DEFAULT_STRATEGY,
        DEFAULT_HASH_ON,
        null,
        null,
        DEFAULT_DRAIN_TIMEOUT_MS,
        true,
        ServiceTimeouts.DEFAULTS,
        null,
        0);
  }

  /** Throws a {@link ValidationException} on {@code field} unless {@code name} is a DNS label. */
  public static void checkName(String name, String field) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new ValidationException(
          field,
          "must be a DNS label: 1-63 of a-z, 0-9 and -, "
              + "starting and ending with a letter or digit");
    }
  }

  /**
   * Reads a service definition as a user gives it ({@code PUT /v1/services/{name}}). Fields left
   * out get their defaults; {@code name}, if given, must equal {@code pathName}.
   */
  public static Service fromJson(JsonObject json, String pathName) {
    Json.onlyKnownFields(json, "", FIELDS);
    checkName(pathName, "name");
    String name = Json.string(json, "", "name", pathName);
    if (!name.equals(pathName)) {
      throw new ValidationException("name", "must match the name in the URL (" + pathName + ")");
    }
    List<Route> routes = new ArrayList<>();
    Object rawRoutes = json.getValue("routes");
    if (rawRoutes == null) {
      routes.add(Route.prefix("/" + name));
    } else if (rawRoutes instanceof JsonArray array) {
      for (int i = 0; i < array.size(); i++) {
        if (!(array.getValue(i) instanceof JsonObject route)) {
          throw new ValidationException("routes[" + i + "]", "must be an object");
        }
        routes.add(Route.fromJson(route, "routes[" + i + "]"));
      }
    } else {
      throw new ValidationException("routes", "must be an array of routes");
    }
    boolean strip = Json.bool(json, "", "stripPrefix", false);
    String strategy = Json.string(json, "", "strategy", DEFAULT_STRATEGY);
    if (!STRATEGIES.contains(strategy)) {
      throw new ValidationException("strategy", "must be one of " + String.join(", ", STRATEGIES));
    }
    String hashOn = Json.string(json, "", "hashOn", DEFAULT_HASH_ON);
    if (!hashOn.equals("client-address")
        && !(hashOn.startsWith("header:") && TOKEN.matcher(hashOn.substring(7)).matches())
        && !(hashOn.startsWith("cookie:") && TOKEN.matcher(hashOn.substring(7)).matches())) {
      throw new ValidationException("hashOn", "must be client-address, header:NAME or cookie:NAME");
    }
    String sticky = Json.string(json, "", "stickyCookie", null);
    if (sticky != null && !TOKEN.matcher(sticky).matches()) {
      throw new ValidationException("stickyCookie", "must be a cookie name");
    }
    JsonObject check = Json.object(json, "", "healthCheck");
    HealthCheck healthCheck = check == null ? null : HealthCheck.fromJson(check, "healthCheck");
    int drain = Json.integer(json, "", "drainTimeoutMs", DEFAULT_DRAIN_TIMEOUT_MS, 0, 3_600_000);
    boolean shared = Json.bool(json, "", "sharedCounts", true);
    ServiceTimeouts timeouts =
        ServiceTimeouts.fromJson(Json.object(json, "", "timeouts"), "timeouts");
    Integer tcpPort = Json.optionalInteger(json, "", "tcpPort", 1, 65535);
    SlowStart slowStart = SlowStart.fromJson(Json.object(json, "", "slowStart"), "slowStart");
    List<String> upgrades = upgrades(json.getValue("upgrades"));
    long revision = json.getValue("revision") instanceof Number n ? n.longValue() : 0;
    return new Service(
        name,
        routes,
        strip,
        strategy,
        hashOn,
        sticky,
        healthCheck,
        drain,
        shared,
        timeouts,
        tcpPort,
        slowStart,
        upgrades,
        revision);
  }

  private static List<String> upgrades(Object raw) {
    if (raw == null) {
      return null;
    }
    if (!(raw instanceof JsonArray array)) {
      throw new ValidationException("upgrades", "must be an array of protocol names");
    }
    List<String> upgrades = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      if (!(array.getValue(i) instanceof String name) || !TOKEN.matcher(name).matches()) {
        throw new ValidationException("upgrades[" + i + "]", "must be a protocol name (a token)");
      }
      if (name.equalsIgnoreCase("h2c")) {
        // It would open a raw HTTP/2 channel to the instance, past the balancer's routing.
        throw new ValidationException("upgrades[" + i + "]", "h2c is never passed on");
      }
      upgrades.add(name);
    }
    return upgrades;
  }

  /** Reads a stored service (trusted input, same format). */
  public static Service fromStored(JsonObject json) {
    return fromJson(json, json.getString("name"));
  }

  public Service withRevision(long newRevision) {
    return new Service(
        name,
        routes,
        stripPrefix,
        strategy,
        hashOn,
        stickyCookie,
        healthCheck,
        drainTimeoutMs,
        sharedCounts,
        timeouts,
        tcpPort,
        slowStart,
        upgrades,
        newRevision);
  }

  public JsonObject toJson() {
    JsonObject json =
        new JsonObject()
            .put("name", name)
            .put("routes", new JsonArray(routes.stream().map(Route::toJson).toList()))
            .put("stripPrefix", stripPrefix)
            .put("strategy", strategy)
            .put("hashOn", hashOn);
    if (stickyCookie != null) {
      json.put("stickyCookie", stickyCookie);
    }
    if (healthCheck != null) {
      json.put("healthCheck", healthCheck.toJson());
    }
    json.put("drainTimeoutMs", drainTimeoutMs).put("sharedCounts", sharedCounts);
    if (!timeouts.isDefault()) {
      json.put("timeouts", timeouts.toJson());
    }
    if (tcpPort != null) {
      json.put("tcpPort", tcpPort);
    }
    if (slowStart != null) {
      json.put("slowStart", slowStart.toJson());
    }
    if (!upgrades.equals(DEFAULT_UPGRADES)) {
      json.put("upgrades", new JsonArray(upgrades));
    }
    return json.put("revision", revision);
  }
}
