package io.teller.common.cluster;

import io.teller.common.config.CommonSettings;
import io.teller.common.config.TellerConfig;
import java.util.List;
import java.util.Objects;

/**
 * How a node joins the cluster.
 *
 * @param name Hazelcast cluster name; nodes of another name never join
 * @param members TCP-IP members to contact, {@code host[:port]}
 * @param host the address this node binds and advertises (Hazelcast and event bus)
 * @param port the Hazelcast port; the next free port is taken if it is in use
 * @param role data member (registry) or lite member (balancer, backend)
 */
public record ClusterOptions(
    String name, List<String> members, String host, int port, ClusterRole role) {

  public static final String DEFAULT_NAME = "teller";
  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 5701;

  public ClusterOptions {
    Objects.requireNonNull(name);
    members = List.copyOf(members);
    Objects.requireNonNull(host);
    Objects.requireNonNull(role);
  }

  /** Reads the shared cluster settings. */
  public static ClusterOptions from(TellerConfig config, ClusterRole role) {
    return new ClusterOptions(
        config.string(CommonSettings.CLUSTER_NAME),
        config.list(CommonSettings.CLUSTER_MEMBERS),
        config.string(CommonSettings.CLUSTER_HOST),
        config.integer(CommonSettings.CLUSTER_PORT),
        role);
  }
}
