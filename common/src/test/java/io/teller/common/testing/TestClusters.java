package io.teller.common.testing;

import io.teller.common.cluster.ClusterOptions;
import io.teller.common.cluster.ClusterRole;
import io.teller.common.cluster.TellerCluster;
import io.vertx.core.Future;
import io.vertx.core.VertxOptions;
import io.vertx.core.transport.Transport;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Starts real Hazelcast-clustered Vert.x nodes on 127.0.0.1 for tests: each instance is one test
 * cluster with a unique name and its own free ports, and {@link #close()} stops every node it
 * started. Use one per test class or per test.
 */
public final class TestClusters implements AutoCloseable {

  // At least 2,000 ports: the range's low end is taken as 12,000 when the kernel's is lower.
  private static final int PORT_LOW = 10_000;
  private static final int PORT_HIGH = ephemeralLow() - 1;
  private static final Set<Integer> handedOut = ConcurrentHashMap.newKeySet();

  private final String name;
  private final int seedPort;
  private final List<TellerCluster> nodes = new ArrayList<>();

  public TestClusters(String prefix) {
    this.name = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    this.seedPort = freePort();
  }

  /**
   * A free TCP port on 127.0.0.1 at the time of the call, never the same twice in this JVM.
   *
   * <p>Taken below the kernel's ephemeral range: a port the kernel handed out for port 0 is free
   * again once probed, and any outgoing connection (Hazelcast, an HTTP client) or port-0 listener
   * (the Vert.x event bus) could take it before the program under test binds it; that race made a
   * balancer fail with "Address already in use" in CI.
   */
  public static int freePort() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    for (int attempt = 0; attempt < 1_000; attempt++) {
      int port = PORT_LOW + random.nextInt(PORT_HIGH - PORT_LOW + 1);
      if (handedOut.add(port) && bindable(port)) {
        return port;
      }
    }
    throw new IllegalStateException(
        "no free port between " + PORT_LOW + " and " + PORT_HIGH + " after 1000 tries");
  }

  private static boolean bindable(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int ephemeralLow() {
    try {
      // readAllLines, not readString: procfs reports a size of 0 and readString reads a fragment
      String range = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0);
      return Math.max(Integer.parseInt(range.trim().split("\\s+")[0]), 12_000);
    } catch (IOException | RuntimeException e) {
      return 32_768;
    }
  }

  /** This test cluster's unique name. */
  public String name() {
    return name;
  }

  /** The member list every node of this test cluster joins through. */
  public List<String> members() {
    return List.of("127.0.0.1:" + seedPort);
  }

  /** Options for a node of this cluster; the first data node takes the seed port. */
  public ClusterOptions options(ClusterRole role) {
    boolean seed =
        role == ClusterRole.DATA
            && nodes.stream().noneMatch(n -> n.options().role() == ClusterRole.DATA);
    return new ClusterOptions(name, members(), "127.0.0.1", seed ? seedPort : freePort(), role);
  }

  /** Starts and joins a node; blocks until it has joined (call from the test thread). */
  public TellerCluster start(ClusterRole role) {
    return start(options(role));
  }

  /**
   * Starts and joins a node on a network transport of the caller's choice (null: Vert.x's own,
   * NIO); blocks until it has joined.
   */
  public TellerCluster start(ClusterRole role, Transport transport) {
    return join(TellerCluster.join(options(role), new VertxOptions(), null, transport));
  }

  /** Starts and joins a node with explicit options; it is stopped by {@link #close()}. */
  public TellerCluster start(ClusterOptions options) {
    return join(TellerCluster.join(options));
  }

  private TellerCluster join(Future<TellerCluster> joining) {
    try {
      TellerCluster node =
          joining.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      synchronized (nodes) {
        nodes.add(node);
      }
      return node;
    } catch (Exception e) {
      throw new IllegalStateException("node did not join test cluster " + name, e);
    }
  }

  /** Stops one node and forgets it. */
  public void stop(TellerCluster node) {
    synchronized (nodes) {
      nodes.remove(node);
    }
    awaitQuietly(node);
  }

  @Override
  public void close() {
    List<TellerCluster> toStop;
    synchronized (nodes) {
      toStop = new ArrayList<>(nodes);
      nodes.clear();
    }
    // Lite members first, so data members don't migrate partitions towards leaving nodes.
    toStop.sort(
        (a, b) ->
            a.options().role() == b.options().role()
                ? 0
                : a.options().role() == ClusterRole.LITE ? -1 : 1);
    toStop.forEach(TestClusters::awaitQuietly);
  }

  private static void awaitQuietly(TellerCluster node) {
    try {
      node.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      // The node is gone either way; a failed close must not hide the test's own result.
    }
  }
}
