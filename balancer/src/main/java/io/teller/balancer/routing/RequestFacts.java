package io.teller.balancer.routing;

/**
 * What routing looks at in a request: host (lower case, without port), path, method and headers.
 * Kept as an interface so that the route table can be tested without an HTTP server.
 */
public interface RequestFacts {

  /** The host the client asked for, lower case, without port; empty if none. */
  String host();

  /** The path, without query string. */
  String path();

  /** The method, upper case. */
  String method();

  /** A request header, or null. */
  String header(String name);
}
