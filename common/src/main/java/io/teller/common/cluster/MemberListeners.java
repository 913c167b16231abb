package io.teller.common.cluster;

import com.hazelcast.cluster.Member;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The ports a Teller program listens on, published to the cluster as a Hazelcast member attribute
 * ({@value #ATTRIBUTE}) when it joins, so that the registry can refuse an instance that points back
 * at a member: an instance at a balancer's admin port would let anyone reach that port through the
 * proxy. Hazelcast 5's member attributes are fixed at join, which is why the ports are the
 * configured ones, not those bound later.
 *
 * <p>The attribute reads {@code https=8443,http=8080,admin=9100}; {@code tcp=services} says the
 * member also listens on every service's {@code tcpPort} (a balancer).
 *
 * @param ports listener name to port, in publishing order
 * @param serviceTcpPorts whether the member also listens on every service's {@code tcpPort}
 */
public record MemberListeners(Map<String, Integer> ports, boolean serviceTcpPorts) {

  /** The Hazelcast member attribute that carries the listeners. */
  public static final String ATTRIBUTE = "teller.listeners";

  /** A member that publishes no listener of its own (a backend, a test node). */
  public static final MemberListeners NONE = new MemberListeners(Map.of(), false);

  private static final String SERVICE_TCP_PORTS = "tcp=services";

  public MemberListeners {
    ports = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(ports));
    ports.forEach(
        (name, port) -> {
          if (!name.matches("[a-z0-9-]+") || port < 1 || port > 65535) {
            throw new IllegalArgumentException("bad listener " + name + "=" + port);
          }
        });
  }

  /** Whether there is nothing to publish. */
  public boolean isEmpty() {
    return ports.isEmpty() && !serviceTcpPorts;
  }

  /** The attribute's value. */
  public String encode() {
    StringJoiner value = new StringJoiner(",");
    ports.forEach((name, port) -> value.add(name + "=" + port));
    if (serviceTcpPorts) {
      value.add(SERVICE_TCP_PORTS);
    }
    return value.toString();
  }

  /**
   * Reads an attribute's value; entries it does not understand (from a later version) are skipped,
   * so that a member is never taken for one without listeners because of one odd entry.
   */
  public static MemberListeners decode(String value) {
    if (value == null || value.isBlank()) {
      return NONE;
    }
    Map<String, Integer> ports = new LinkedHashMap<>();
    boolean serviceTcpPorts = false;
    for (String entry : value.split(",")) {
      String trimmed = entry.trim();
      if (trimmed.equals(SERVICE_TCP_PORTS)) {
        serviceTcpPorts = true;
        continue;
      }
      int eq = trimmed.indexOf('=');
      if (eq <= 0 || !trimmed.substring(0, eq).matches("[a-z0-9-]+")) {
        continue;
      }
      try {
        int port = Integer.parseInt(trimmed.substring(eq + 1));
        if (port >= 1 && port <= 65535) {
          ports.put(trimmed.substring(0, eq), port);
        }
      } catch (NumberFormatException e) {
        // skipped, see above
      }
    }
    return new MemberListeners(ports, serviceTcpPorts);
  }

  /** The listeners {@code member} published when it joined. */
  public static MemberListeners of(Member member) {
    return decode(member.getAttribute(ATTRIBUTE));
  }
}
