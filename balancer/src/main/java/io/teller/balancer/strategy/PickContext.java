package io.teller.balancer.strategy;

import java.util.Set;

/** What a picker may know about the request it picks an endpoint for. */
public interface PickContext {

  /** Returns the value of the request header with this name (case-insensitive), or null. */
  String header(String name);

  /** Returns the value of the request cookie with this name, or null. */
  String cookie(String name);

  /** Returns the client's remote IP address as text. */
  String clientAddress();

  /**
   * Returns the ids of the endpoints already tried for this request (retries). A picker never picks
   * them; when nothing else is left it returns null.
   */
  default Set<String> excluded() {
    return Set.of();
  }

  /**
   * Returns the endpoint id carried by the request's sticky cookie, or null. When that endpoint is
   * in the snapshot and not excluded, every picker picks it, whatever its strategy.
   */
  default String stickyEndpointId() {
    return null;
  }
}
