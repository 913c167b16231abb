package io.teller.balancer.tcp;

/**
 * How the L4 listeners behave (retries and ejection follow the balancer's one resilience policy).
 *
 * @param host the address the listeners bind
 * @param connectTimeoutMillis how long to wait for a connection to an instance before trying
 *     another
 * @param idleTimeoutMillis a connection with no byte either way for this long is closed; 0: never
 * @param helloTimeoutMillis how long an SNI listener waits for the whole ClientHello
 */
public record TcpOptions(
    String host, int connectTimeoutMillis, int idleTimeoutMillis, int helloTimeoutMillis) {}
