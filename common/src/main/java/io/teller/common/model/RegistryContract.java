package io.teller.common.model;

import io.vertx.core.json.JsonObject;

/**
 * The registry's event-bus contract: every address in one place, and the requests a backend sends
 * as records with their JSON. Failures come back as {@code ReplyException}s whose failure code is
 * an HTTP status ({@link RegistryFailure}): 400 with {@code {"field", "detail"}} as message, 404
 * when the registry does not know the instance, 503 when it could not complete the request.
 */
public final class RegistryContract {

  /**
   * Request: {@link Register}; reply: the instance. A service this registration creates gets the
   * route {@code routePrefix} when given, instead of {@code /<service>}.
   */
  public static final String REGISTER = "teller.registry.register";

  /**
   * Request: {@link Heartbeat}; reply: the instance, or failure 404 when unknown (register again).
   */
  public static final String HEARTBEAT = "teller.registry.heartbeat";

  /** Request: {@link Deregister}; reply: the instance (draining) or failure 404. */
  public static final String DEREGISTER = "teller.registry.deregister";

  /** Request: {@code {}}; reply: the whole {@link Snapshot}. */
  public static final String SNAPSHOT = "teller.registry.snapshot";

  /** Published: one {@link Change} per change, in revision order. */
  public static final String CHANGES = "teller.registry.changes";

  private static final String SERVICE = "service";
  private static final String ID = "id";

  private RegistryContract() {}

  /**
   * A request of a backend about its own instance. {@code fromJson} is where the registry checks
   * what it receives: a {@link ValidationException} names the field at fault.
   */
  public sealed interface Request {

    /** Where the request is sent. */
    String address();

    JsonObject toJson();
  }

  /**
   * {@code {service, registration: {host, port, weight, metadata, ttlSeconds}, member,
   * routePrefix}}.
   *
   * @param member the cluster member registering (the instance goes when it leaves), or null
   * @param routePrefix the route of the service if this registration creates it, or null
   */
  public record Register(
      String service, Instance.Registration registration, String member, String routePrefix)
      implements Request {

    @Override
    public String address() {
      return REGISTER;
    }

    @Override
    public JsonObject toJson() {
      JsonObject json =
          new JsonObject().put(SERVICE, service).put("registration", registration.toJson());
      if (member != null) {
        json.put("member", member);
      }
      if (routePrefix != null) {
        json.put("routePrefix", routePrefix);
      }
      return json;
    }

    public static Register fromJson(JsonObject json) {
      String routePrefix = Json.string(json, "", "routePrefix", null);
      if (routePrefix != null
          && (!routePrefix.startsWith("/") || routePrefix.chars().anyMatch(c -> c <= ' '))) {
        throw new ValidationException("routePrefix", "must start with / and hold no spaces");
      }
      String service = Json.string(json, "", SERVICE, null);
      Service.checkName(service, SERVICE);
      JsonObject registration = Json.object(json, "", "registration");
      return new Register(
          service,
          Instance.Registration.fromJson(registration == null ? new JsonObject() : registration),
          Json.string(json, "", "member", null),
          routePrefix);
    }
  }

  /** {@code {service, id}}. */
  public record Heartbeat(String service, String id) implements Request {

    @Override
    public String address() {
      return HEARTBEAT;
    }

    @Override
    public JsonObject toJson() {
      return new JsonObject().put(SERVICE, service).put(ID, id);
    }

    public static Heartbeat fromJson(JsonObject json) {
      return new Heartbeat(required(json, SERVICE), required(json, ID));
    }
  }

  /** {@code {service, id, drain}}; {@code drain} (default true) false removes it at once. */
  public record Deregister(String service, String id, boolean drain) implements Request {

    @Override
    public String address() {
      return DEREGISTER;
    }

    @Override
    public JsonObject toJson() {
      return new JsonObject().put(SERVICE, service).put(ID, id).put("drain", drain);
    }

    public static Deregister fromJson(JsonObject json) {
      return new Deregister(
          required(json, SERVICE), required(json, ID), Json.bool(json, "", "drain", true));
    }
  }

  private static String required(JsonObject json, String key) {
    String value = Json.string(json, "", key, null);
    if (value == null) {
      throw new ValidationException(key, "is required");
    }
    return value;
  }
}
