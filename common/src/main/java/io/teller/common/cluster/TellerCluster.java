package io.teller.common.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.KubernetesConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one cluster bootstrap of every Teller program: a clustered Vert.x on Hazelcast that finds its
 * members by TCP-IP from configuration or by Kubernetes discovery ({@link ClusterDiscovery}),
 * multicast off, the cluster name and advertised address from configuration, registry nodes as data
 * members and everyone else as lite members.
 *
 * <p>Hazelcast's failure detector is tightened (1 s heartbeats, a member silent for 10 s is
 * removed, against 60 s by default) because the balancer's shared counters and the registry's
 * clean-up hang on member-removed events. A member that stops or crashes is seen at once (its
 * connections close); the silence limit only catches a hung one, and 10 s rather than 3 s keeps a
 * long GC pause or a starved 2-core machine from splitting the cluster.
 */
public final class TellerCluster {

  private static final Logger LOG = LoggerFactory.getLogger(TellerCluster.class);

  private final Vertx vertx;
  private final HazelcastClusterManager clusterManager;
  private final ClusterOptions options;
  private final Map<String, SocketAddress> eventBusAddresses = new ConcurrentHashMap<>();

  private TellerCluster(
      Vertx vertx, HazelcastClusterManager clusterManager, ClusterOptions options) {
    this.vertx = vertx;
    this.clusterManager = clusterManager;
    this.options = options;
  }

  /**
   * Starts a clustered Vert.x and joins the cluster. Resolving the advertised host may block
   * briefly, so call this from {@code main} or a worker, not from an event loop.
   */
  public static Future<TellerCluster> join(ClusterOptions options) {
    return join(options, new VertxOptions());
  }

  /** As {@link #join(ClusterOptions)}, with the caller's Vert.x options (event-loop count...). */
  public static Future<TellerCluster> join(ClusterOptions options, VertxOptions vertxOptions) {
    return join(options, vertxOptions, null);
  }

  /**
   * As {@link #join(ClusterOptions, VertxOptions)}, with what measures Vert.x.
   *
   * @param metrics what measures Vert.x, or null for no metrics
   */
  public static Future<TellerCluster> join(
      ClusterOptions options,
      VertxOptions vertxOptions,
      io.vertx.core.spi.VertxMetricsFactory metrics) {
    return join(options, vertxOptions, metrics, null);
  }

  /**
   * As {@link #join(ClusterOptions, VertxOptions, io.vertx.core.spi.VertxMetricsFactory)}, on a
   * network transport of the caller's choice.
   *
   * @param transport the transport, or null for Vert.x's choice; one that is not available makes
   *     Vert.x run on NIO ({@code Vertx.unavailableNativeTransportCause()} says why)
   */
  public static Future<TellerCluster> join(
      ClusterOptions options,
      VertxOptions vertxOptions,
      io.vertx.core.spi.VertxMetricsFactory metrics,
      io.vertx.core.transport.Transport transport) {
    String address;
    try {
      address = InetAddress.getByName(options.host()).getHostAddress();
    } catch (UnknownHostException e) {
      return Future.failedFuture(
          new IllegalArgumentException(
              "cluster host "
                  + options.host()
                  + " does not resolve to an address of this machine"));
    }
    HazelcastClusterManager clusterManager =
        new HazelcastClusterManager(hazelcastConfig(options, address));
    vertxOptions.getEventBusOptions().setHost(address).setPort(0).setClusterPublicHost(address);
    // cluster.tls.*: the event bus's connections between members over mutual TLS. Hazelcast's own
    // port stays plain (no TLS in its open-source edition).
    options.tls().applyTo(vertxOptions.getEventBusOptions());
    var builder = Vertx.builder().with(vertxOptions).withClusterManager(clusterManager);
    if (metrics != null) {
      builder.withMetrics(metrics);
    }
    if (transport != null) {
      builder.withTransport(transport);
    }
    return builder
        .buildClustered()
        .recover(
            failure -> {
              // A failed start can leave the Hazelcast member running; a retry must not meet it.
              HazelcastInstance orphan = clusterManager.getHazelcastInstance();
              if (orphan != null) {
                orphan.getLifecycleService().terminate();
              }
              return Future.failedFuture(
                  isNoDataMember(failure) ? new NoRegistryException(options.name()) : failure);
            })
        .map(
            vertx -> {
              TellerCluster cluster = new TellerCluster(vertx, clusterManager, options);
              cluster.logMembership();
              return cluster;
            });
  }

  /**
   * Vert.x keeps its cluster bookkeeping in Hazelcast maps, which only data members hold: a lite
   * member cannot start while no registry node runs.
   */
  public static final class NoRegistryException extends RuntimeException {
    NoRegistryException(String clusterName) {
      super(
          "no registry node (data member) in cluster '" + clusterName + "' yet",
          null,
          false,
          false);
    }
  }

  private static boolean isNoDataMember(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof com.hazelcast.partition.NoDataMemberInClusterException) {
        return true;
      }
    }
    return false;
  }

  /**
   * Hazelcast tries a member given without a port on this node's own port and the two above it;
   * Teller's members are found at the well-known port instead, and the two above it, so that a node
   * using another port still finds the registry.
   */
  static List<String> memberAddresses(List<String> members) {
    List<String> addresses = new ArrayList<>();
    for (String member : members) {
      boolean hasPort =
          member.startsWith("[")
              ? member.contains("]:")
              : member.indexOf(':') >= 0 && member.indexOf(':') == member.lastIndexOf(':');
      if (hasPort) {
        addresses.add(member);
      } else {
        String host = member.contains(":") && !member.startsWith("[") ? "[" + member + "]" : member;
        for (int i = 0; i < 3; i++) {
          addresses.add(host + ":" + (ClusterOptions.DEFAULT_PORT + i));
        }
      }
    }
    return addresses;
  }

  static Config hazelcastConfig(ClusterOptions options, String address) {
    // Start from Vert.x's own default (it declares the maps Vert.x needs, with backups).
    Config config = ConfigUtil.loadConfig();
    config.setClusterName(options.name());
    config.setLiteMember(options.role() == ClusterRole.LITE);
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    config.setProperty("hazelcast.max.no.heartbeat.seconds", "10");
    // Vert.x leaves the cluster in its own close(); Hazelcast's hook would race it.
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    config.setProperty("hazelcast.socket.bind.any", "false");
    // When every registry node stops at once (a restart under compose), the lite members are left
    // in a cluster of their own; they merge into the registry's new cluster at the next
    // split-brain search, every 5 s here (Hazelcast: 300 s, then every 120 s).
    config.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
    config.setProperty("hazelcast.merge.next.run.delay.seconds", "5");

    // The ports this program listens on, for the registry to refuse instances pointing at them.
    if (!options.listeners().isEmpty()) {
      config
          .getMemberAttributeConfig()
          .setAttribute(MemberListeners.ATTRIBUTE, options.listeners().encode());
    }

    // The registry's own maps: one synchronous backup, so losing a registry node loses nothing.
    config.addMapConfig(new MapConfig("teller.*").setBackupCount(1).setAsyncBackupCount(0));

    NetworkConfig network = config.getNetworkConfig();
    network.setPort(options.port()).setPortAutoIncrement(true).setPortCount(100);
    // The address is given as Hazelcast's "local address", not as an interface: with interfaces
    // enabled, Hazelcast drops every TCP-IP member given by host name whose address is not one of
    // this node's own (TcpIpJoiner.getPossibleAddresses), so under docker-compose a balancer told
    // to find "registry" tried no address at all and never joined. Members given by name are
    // resolved by Hazelcast at every join attempt and every split-brain search, so a registry
    // that comes back at a new address is found again.
    config.setProperty("hazelcast.local.localAddress", address);
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    ClusterDiscovery discovery = options.discovery();
    switch (discovery.mode()) {
      case TCP ->
          join.getTcpIpConfig().setEnabled(true).setMembers(memberAddresses(options.members()));
      case KUBERNETES_DNS ->
          // Resolved at every join attempt and split-brain search, like a member given by name.
          kubernetes(config, options).setProperty("service-dns", discovery.kubernetesService());
      case KUBERNETES_API ->
          kubernetes(config, options)
              .setProperty("service-name", discovery.kubernetesService())
              // Only the Service's endpoints are read: no Services, no Nodes, so the Role stays
              // small; a registry pod that is not ready yet must still be found (it may be the one
              // that restores the state).
              .setProperty("expose-externally", "false")
              .setProperty("resolve-not-ready-addresses", "true");
    }
    return config;
  }

  /**
   * Hazelcast's built-in Kubernetes discovery (in the main jar since 5.0). The registry's Service
   * selects the registry pods only; lite members find the cluster through them. Peers are contacted
   * on this node's own port, which is everyone's port in a Kubernetes deployment.
   */
  private static KubernetesConfig kubernetes(Config config, ClusterOptions options) {
    // Hazelcast 5.3's discovery joiner asks discovery for members only until
    // wait.seconds.before.join has passed, and with 0 it never asks at all: every node would
    // start a cluster of its own (found with a real DNS-mode join in ClusterDiscoveryTest). With 1
    // s
    // the first lookup runs at once; a node that finds no one waits up to 1 s before starting
    // alone, and a master gathers joiners for 1 s, a second more per join than TCP-IP here.
    config.setProperty("hazelcast.wait.seconds.before.join", "1");
    return config
        .getNetworkConfig()
        .getJoin()
        .getKubernetesConfig()
        .setEnabled(true)
        .setProperty("service-port", String.valueOf(options.port()));
  }

  private void logMembership() {
    HazelcastInstance hazelcast = clusterManager.getHazelcastInstance();
    Member self = hazelcast.getCluster().getLocalMember();
    LOG.info(
        "joined cluster '{}' as {} member {} ({} members){}",
        options.name(),
        options.role() == ClusterRole.DATA ? "data" : "lite",
        self.getAddress(),
        hazelcast.getCluster().getMembers().size(),
        options.tls().enabled() ? "; event bus over TLS, client certificates required" : "");
    hazelcast
        .getCluster()
        .addMembershipListener(
            new MembershipListener() {
              @Override
              public void memberAdded(MembershipEvent event) {
                LOG.info(
                    "member joined: {}{} ({} members)",
                    event.getMember().getAddress(),
                    event.getMember().isLiteMember() ? " (lite)" : "",
                    event.getMembers().size());
              }

              @Override
              public void memberRemoved(MembershipEvent event) {
                LOG.info(
                    "member left: {}{} ({} members)",
                    event.getMember().getAddress(),
                    event.getMember().isLiteMember() ? " (lite)" : "",
                    event.getMembers().size());
              }
            });
  }

  /** The clustered Vert.x. */
  public Vertx vertx() {
    return vertx;
  }

  /** The Hazelcast instance under the cluster manager, for membership and data structures. */
  public HazelcastInstance hazelcast() {
    return clusterManager.getHazelcastInstance();
  }

  /**
   * This node's Hazelcast member id: what membership events name, so that what a node registered
   * can be cleaned up when it leaves.
   */
  public String memberId() {
    return hazelcast().getCluster().getLocalMember().getUuid().toString();
  }

  /** The options this node joined with. */
  public ClusterOptions options() {
    return options;
  }

  /** The number of cluster members, this one included. */
  public int memberCount() {
    return hazelcast().getCluster().getMembers().size();
  }

  /**
   * Where every member's event bus listens, as each advertised it (Vert.x's node info): a port of
   * each member that its {@link MemberListeners} cannot name, being bound after the join. A member
   * that has not advertised it yet is left out. A node's address never changes, so each is asked
   * for once.
   */
  public Future<List<SocketAddress>> eventBusAddresses() {
    List<String> nodes = clusterManager.getNodes();
    eventBusAddresses.keySet().retainAll(nodes);
    List<Future<SocketAddress>> addresses = new ArrayList<>();
    for (String node : nodes) {
      SocketAddress known = eventBusAddresses.get(node);
      if (known != null) {
        addresses.add(Future.succeededFuture(known));
        continue;
      }
      Promise<NodeInfo> info = Promise.promise();
      clusterManager.getNodeInfo(node, info);
      addresses.add(
          info.future()
              .map(i -> i == null ? null : SocketAddress.inetSocketAddress(i.port(), i.host()))
              .onSuccess(
                  address -> {
                    if (address != null) {
                      eventBusAddresses.put(node, address);
                    }
                  }));
    }
    return Future.join(addresses)
        .transform(
            done ->
                Future.succeededFuture(
                    addresses.stream()
                        .filter(f -> f.succeeded() && f.result() != null)
                        .map(Future::result)
                        .toList()));
  }

  /** Leaves the cluster and closes Vert.x. */
  public Future<Void> close() {
    return vertx.close();
  }
}
