package io.teller.registry.guard;

import com.hazelcast.cluster.Member;
import io.teller.common.cluster.MemberListeners;
import io.teller.common.model.Service;
import io.vertx.core.net.SocketAddress;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Every port the cluster's members listen on, each with its member's address: the listeners a
 * member published ({@link MemberListeners}), its Hazelcast port, its event-bus port, and, for a
 * member that listens on every service's {@code tcpPort} (a balancer), those ports.
 *
 * <p>An instance at one of these is refused when its address is that member's, or a loopback or
 * unspecified address ({@code 127.0.0.0/8}, {@code ::1}, {@code 0.0.0.0}, {@code ::}) with the port
 * of any member: a balancer that connects to loopback, or to "no address" (which Linux takes as its
 * own host), reaches its own listeners, whichever member published them.
 *
 * @param listeners every listener, in no particular order
 */
public record ClusterPorts(List<Listener> listeners) {

  /**
   * One port of one member.
   *
   * @param address the member's address
   * @param port the port
   * @param what what listens there, for messages ({@code admin}, {@code Hazelcast}...)
   * @param member the member, as its Hazelcast address, for messages
   */
  public record Listener(InetAddress address, int port, String what, String member) {}

  public ClusterPorts {
    listeners = List.copyOf(listeners);
  }

  /**
   * The ports of {@code members}, whose event buses listen at {@code eventBuses}; {@code services}
   * give the {@code tcpPort}s. Parses the members' addresses, which are IP literals in a Teller
   * cluster (a name would be looked up: call off the event loop).
   */
  public static ClusterPorts of(
      Collection<Member> members, List<SocketAddress> eventBuses, List<Service> services)
      throws UnknownHostException {
    List<Listener> listeners = new ArrayList<>();
    for (Member member : members) {
      InetAddress address = InetAddress.getByName(member.getAddress().getHost());
      String name = address.getHostAddress() + ":" + member.getAddress().getPort();
      listeners.add(new Listener(address, member.getAddress().getPort(), "Hazelcast", name));
      MemberListeners published = MemberListeners.of(member);
      published
          .ports()
          .forEach((what, port) -> listeners.add(new Listener(address, port, what, name)));
      if (published.serviceTcpPorts()) {
        for (Service service : services) {
          if (service.tcpPort() != null) {
            listeners.add(
                new Listener(
                    address, service.tcpPort(), "tcpPort of service " + service.name(), name));
          }
        }
      }
    }
    for (SocketAddress eventBus : eventBuses) {
      InetAddress address = InetAddress.getByName(eventBus.host());
      listeners.add(
          new Listener(
              address,
              eventBus.port(),
              "event bus",
              address.getHostAddress() + ":" + eventBus.port()));
    }
    return new ClusterPorts(listeners);
  }

  /** Why {@code address:port} would reach a member's own listener, or empty if it would not. */
  public Optional<String> refusal(InetAddress address, int port) {
    boolean anyMember = address.isLoopbackAddress() || address.isAnyLocalAddress();
    for (Listener listener : listeners) {
      if (listener.port() != port) {
        continue;
      }
      if (listener.address().equals(address)) {
        return Optional.of(
            endpoint(address, port)
                + " is the "
                + listener.what()
                + " listener of cluster member "
                + listener.member());
      }
      if (anyMember) {
        return Optional.of(
            endpoint(address, port)
                + " is "
                + (address.isLoopbackAddress() ? "a loopback" : "an unspecified")
                + " address, and "
                + port
                + " is the "
                + listener.what()
                + " port of cluster member "
                + listener.member());
      }
    }
    return Optional.empty();
  }

  private static String endpoint(InetAddress address, int port) {
    String host = address.getHostAddress();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }
}
