package io.teller.common.cluster;

import io.teller.common.config.CommonSettings;
import io.teller.common.config.ConfigException;
import io.teller.common.config.TellerConfig;
import java.util.List;
import java.util.Objects;

/**
 * How a node joins the cluster.
 *
 * @param name Hazelcast cluster name; nodes of another name never join
 * @param members TCP-IP members to contact, {@code host[:port]} (TCP discovery only)
 * @param host the address this node binds and advertises (Hazelcast and event bus)
 * @param port the Hazelcast port; the next free port is taken if it is in use
 * @param role data member (registry) or lite member (balancer, backend)
 * @param discovery how the other members are found
 * @param tls the event bus over TLS with client certificates, or {@link ClusterTls#PLAIN}
 * @param listeners the ports this node's program listens on, published to the other members
 */
public record ClusterOptions(
    String name,
    List<String> members,
    String host,
    int port,
    ClusterRole role,
    ClusterDiscovery discovery,
    ClusterTls tls,
    MemberListeners listeners) {

  public static final String DEFAULT_NAME = "teller";
  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 5701;

  public ClusterOptions {
    Objects.requireNonNull(name);
    members = List.copyOf(members);
    Objects.requireNonNull(host);
    Objects.requireNonNull(role);
    Objects.requireNonNull(discovery);
    Objects.requireNonNull(tls);
    Objects.requireNonNull(listeners);
  }

  /** Options with a plain-TCP event bus, publishing no listeners. */
  public ClusterOptions(
      String name,
      List<String> members,
      String host,
      int port,
      ClusterRole role,
      ClusterDiscovery discovery) {
    this(name, members, host, port, role, discovery, ClusterTls.PLAIN, MemberListeners.NONE);
  }

  /** Options that find members through the member list (TCP discovery). */
  public ClusterOptions(
      String name, List<String> members, String host, int port, ClusterRole role) {
    this(name, members, host, port, role, ClusterDiscovery.TCP);
  }

  /** These options, publishing {@code listeners} as this node's. */
  public ClusterOptions withListeners(MemberListeners listeners) {
    return new ClusterOptions(name, members, host, port, role, discovery, tls, listeners);
  }

  /** Reads the shared cluster settings; a mistake is a {@link ConfigException}. */
  public static ClusterOptions from(TellerConfig config, ClusterRole role) {
    return new ClusterOptions(
        config.string(CommonSettings.CLUSTER_NAME),
        config.list(CommonSettings.CLUSTER_MEMBERS),
        config.string(CommonSettings.CLUSTER_HOST),
        config.integer(CommonSettings.CLUSTER_PORT),
        role,
        discovery(config),
        ClusterTls.from(config),
        MemberListeners.NONE);
  }

  /** These options with the event bus over {@code tls}. */
  public ClusterOptions withTls(ClusterTls tls) {
    return new ClusterOptions(name, members, host, port, role, discovery, tls, listeners);
  }

  /** The discovery that {@code cluster.discovery} and {@code cluster.kubernetes.*} describe. */
  public static ClusterDiscovery discovery(TellerConfig config) {
    String discovery = config.string(CommonSettings.CLUSTER_DISCOVERY);
    if (discovery.equals(CommonSettings.DISCOVERY_TCP)) {
      return ClusterDiscovery.TCP;
    }
    String service = config.string(CommonSettings.CLUSTER_KUBERNETES_SERVICE);
    if (config.string(CommonSettings.CLUSTER_KUBERNETES_MODE).equals("dns")) {
      return ClusterDiscovery.kubernetesDns(service);
    }
    if (service.contains(".")) {
      // The API is asked for a Service by name in the pod's namespace: a DNS name finds nothing.
      throw ConfigException.badValue(
          CommonSettings.CLUSTER_KUBERNETES_SERVICE,
          service,
          "in api mode, must be the Service's name (no dots)");
    }
    return ClusterDiscovery.kubernetesApi(service);
  }

  /** Where this node looks for members, for log lines: the member list, or the Service. */
  public String seeds() {
    return switch (discovery.mode()) {
      case TCP -> String.join(",", members);
      case KUBERNETES_DNS -> discovery.kubernetesService() + " (Kubernetes DNS)";
      case KUBERNETES_API -> "service " + discovery.kubernetesService() + " (Kubernetes API)";
    };
  }
}
