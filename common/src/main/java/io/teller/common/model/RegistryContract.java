package io.teller.common.model;

/**
 * The registry's event-bus contract: every address in one place. Requests carry JSON objects;
 * failures come back as {@code ReplyException}s whose failure code is an HTTP status (400 with a
 * problem JSON as message, 404 when the registry does not know the instance).
 */
public final class RegistryContract {

  /**
   * Request: {@code {service, registration: {host, port, weight, metadata, ttlSeconds}, member,
   * routePrefix}}; reply: the instance. {@code routePrefix} (optional) is the route a service
   * created by this registration gets, instead of {@code /<service>}.
   */
  public static final String REGISTER = "teller.registry.register";

  /**
   * Request: {@code {service, id}}; reply: the instance, or failure 404 when unknown (register
   * again).
   */
  public static final String HEARTBEAT = "teller.registry.heartbeat";

  /** Request: {@code {service, id, drain: true}}; reply: the instance (draining) or failure 404. */
  public static final String DEREGISTER = "teller.registry.deregister";

  /** Request: {@code {}}; reply: the whole {@link Snapshot}. */
  public static final String SNAPSHOT = "teller.registry.snapshot";

  /** Published: one {@link Change} per change, in revision order. */
  public static final String CHANGES = "teller.registry.changes";

  private RegistryContract() {}
}
