package io.teller.balancer.tcp;

import io.teller.balancer.strategy.Strategies;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One TCP (L4) listener the balancer should have: a port, and either the service whose instances
 * take its connections or {@link Kind#SNI}, where each TLS connection goes to the service whose
 * route hosts name the server in its ClientHello. Immutable.
 *
 * <p>In configuration ({@code tcp.listeners}) a listener is written {@code PORT:SERVICE} (the
 * service's own strategy), {@code PORT:SERVICE:STRATEGY} (this listener picks with another
 * strategy) or {@code PORT:sni}; several are separated by commas. A service's {@code tcpPort} in
 * the registry gives {@code PORT:SERVICE} too.
 *
 * @param port the port to listen on, 1-65535
 * @param kind whether connections go to one service or are routed by SNI
 * @param service the service, for {@link Kind#SERVICE}; null for {@link Kind#SNI}
 * @param strategy the strategy that overrides the service's, or null to use the service's own
 * @param origin {@code config} or {@code registry}: where the listener comes from
 * @param drainMillis how long open connections may go on once the listener is removed
 */
public record ListenerSpec(
    int port, Kind kind, String service, String strategy, String origin, long drainMillis) {

  /** How a listener chooses the service of a connection. */
  public enum Kind {
    /** Every connection goes to one service. */
    SERVICE,
    /** TLS pass-through: the server name in the ClientHello chooses the service. */
    SNI
  }

  /** The word that makes a listener route by SNI; no service can be called so here. */
  public static final String SNI_WORD = "sni";

  public static final String FROM_CONFIG = "config";
  public static final String FROM_REGISTRY = "registry";

  /**
   * Configured listeners close only when the balancer stops, which closes their connections too.
   */
  static final long CONFIG_DRAIN_MILLIS = 0;

  private static final Pattern SERVICE_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

  /**
   * Reads {@code tcp.listeners}: comma-separated text, or a YAML list of entries.
   *
   * @throws IllegalArgumentException with a one-line reason naming the bad entry
   */
  public static List<ListenerSpec> parseAll(Object raw) {
    List<String> entries = new ArrayList<>();
    if (raw instanceof Collection<?> items) {
      items.forEach(item -> entries.add(String.valueOf(item).trim()));
    } else {
      for (String entry : String.valueOf(raw).split(",")) {
        entries.add(entry.trim());
      }
    }
    entries.removeIf(String::isEmpty);
    List<ListenerSpec> specs = new ArrayList<>();
    Set<Integer> ports = new HashSet<>();
    for (String entry : entries) {
      ListenerSpec spec = parse(entry);
      if (!ports.add(spec.port())) {
        throw new IllegalArgumentException("port " + spec.port() + " is given twice");
      }
      specs.add(spec);
    }
    return List.copyOf(specs);
  }

  /** Reads one {@code PORT:SERVICE[:STRATEGY]} or {@code PORT:sni}. */
  static ListenerSpec parse(String entry) {
    String[] parts = entry.split(":", -1);
    if (parts.length < 2 || parts.length > 3) {
      throw bad(entry, "must be PORT:SERVICE, PORT:SERVICE:STRATEGY or PORT:sni");
    }
    int port;
    try {
      port = Integer.parseInt(parts[0].trim());
    } catch (NumberFormatException e) {
      throw bad(entry, "the port must be a number between 1 and 65535");
    }
    if (port < 1 || port > 65535) {
      throw bad(entry, "the port must be a number between 1 and 65535");
    }
    String target = parts[1].trim();
    if (target.equals(SNI_WORD)) {
      if (parts.length == 3) {
        throw bad(entry, "an SNI listener takes no strategy (each service uses its own)");
      }
      return new ListenerSpec(port, Kind.SNI, null, null, FROM_CONFIG, CONFIG_DRAIN_MILLIS);
    }
    if (!SERVICE_NAME.matcher(target).matches()) {
      throw bad(entry, "'" + target + "' is not a service name (a DNS label) nor 'sni'");
    }
    String strategy = parts.length == 3 ? parts[2].trim() : null;
    if (strategy != null && !Strategies.NAMES.contains(strategy)) {
      throw bad(
          entry,
          "unknown strategy '"
              + strategy
              + "'; expected one of "
              + String.join(", ", Strategies.NAMES));
    }
    return new ListenerSpec(port, Kind.SERVICE, target, strategy, FROM_CONFIG, CONFIG_DRAIN_MILLIS);
  }

  /** The listener a service's {@code tcpPort} asks for. */
  public static ListenerSpec fromRegistry(int port, String service, long drainMillis) {
    return new ListenerSpec(port, Kind.SERVICE, service, null, FROM_REGISTRY, drainMillis);
  }

  private static IllegalArgumentException bad(String entry, String reason) {
    return new IllegalArgumentException("\"" + entry + "\": " + reason);
  }

  /** As configuration writes it, e.g. {@code 15432:pg:least-connections}. */
  @Override
  public String toString() {
    return kind == Kind.SNI
        ? port + ":" + SNI_WORD
        : port + ":" + service + (strategy == null ? "" : ":" + strategy);
  }
}
