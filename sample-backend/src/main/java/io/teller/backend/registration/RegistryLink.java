package io.teller.backend.registration;

import io.teller.common.model.Instance;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * How a backend talks to the registry about its own instance: over the clustered event bus ({@link
 * EventBusRegistryLink}) or over the REST API ({@link RestRegistryLink}). Each call answers the
 * registry's instance JSON, or fails with a {@link RegistryLinkException} that says what the caller
 * should do next.
 */
public interface RegistryLink {

  /** Registers the instance (the same address again finds the same instance). */
  Future<JsonObject> register(String service, Instance.Registration registration);

  /**
   * Records a heartbeat; fails with {@link RegistryLinkException.Kind#NOT_FOUND} when forgotten.
   */
  Future<JsonObject> heartbeat(String service, String id);

  /** Deregisters with drain: the instance turns {@code draining} and is removed later. */
  Future<JsonObject> deregister(String service, String id);

  /** Where the registry is reached, for log lines: "on the event bus", "at http://...". */
  String describe();

  /** Releases what the link holds (an HTTP client). */
  default Future<Void> close() {
    return Future.succeededFuture();
  }
}
