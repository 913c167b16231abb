package io.teller.e2e;

import io.teller.common.testing.TellerProcess;
import io.teller.common.testing.TestClusters;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;

/**
 * Teller's programs as real processes on 127.0.0.1, in a cluster of their own with free ports: what
 * docker-compose runs, without containers. {@link #close()} stops every process.
 */
public final class LocalStack implements AutoCloseable {

  public static final String TOKEN = "e2e-token";

  private final String cluster = "e2e-" + UUID.randomUUID().toString().substring(0, 8);
  private final int seedPort = TestClusters.freePort();
  private final Path dataDir;
  private final List<TellerProcess> processes = new ArrayList<>();
  private int registryPort;

  public LocalStack(Path dataDir) {
    this.dataDir = dataDir;
  }

  /** A running balancer's ports. */
  public record Balancer(TellerProcess process, int httpsPort, int adminPort) {}

  /** A running backend and its HTTP port. */
  public record Backend(TellerProcess process, int port) {}

  private Map<String, String> baseEnv(String name, int clusterPort) {
    Map<String, String> env = new HashMap<>();
    env.put("TELLER_CLUSTER_NAME", cluster);
    env.put("TELLER_CLUSTER_MEMBERS", "127.0.0.1:" + seedPort);
    env.put("TELLER_CLUSTER_PORT", String.valueOf(clusterPort));
    env.put("TELLER_LISTEN_HOST", "127.0.0.1");
    env.put("TELLER_API_TOKEN", TOKEN);
    env.put("TELLER_DATA_DIR", dataDir.resolve(name).toString());
    return env;
  }

  private TellerProcess start(String module, Map<String, String> env) {
    return start(module, List.of(), env);
  }

  private TellerProcess start(String module, List<String> jvmOptions, Map<String, String> env) {
    TellerProcess process = TellerProcess.start(TellerProcess.programJar(module), jvmOptions, env);
    synchronized (processes) {
      processes.add(process);
    }
    return process;
  }

  /** Starts the registry (the first data member) and waits until it is ready. */
  public TellerProcess startRegistry() throws InterruptedException {
    registryPort = TestClusters.freePort();
    Map<String, String> env = baseEnv("registry", seedPort);
    env.put("TELLER_REGISTRY_PORT", String.valueOf(registryPort));
    TellerProcess registry = start("registry", env);
    registry.awaitLine("registry ready", Duration.ofSeconds(60));
    return registry;
  }

  public String registryUrl(String path) {
    return "http://127.0.0.1:" + registryPort + path;
  }

  /** Starts a balancer; waits until it is ready. */
  public Balancer startBalancer(String name, Map<String, String> extra)
      throws InterruptedException {
    return startBalancer(name, extra, List.of());
  }

  /**
   * Starts a balancer with JVM options of its own (e.g. {@code -Xmx128m}); waits until it is ready.
   */
  public Balancer startBalancer(String name, Map<String, String> extra, List<String> jvmOptions)
      throws InterruptedException {
    int https = TestClusters.freePort();
    int admin = TestClusters.freePort();
    Map<String, String> env = baseEnv(name, TestClusters.freePort());
    env.put("TELLER_HTTPS_PORT", String.valueOf(https));
    env.put("TELLER_HTTP_PORT", String.valueOf(TestClusters.freePort()));
    env.put("TELLER_ADMIN_PORT", String.valueOf(admin));
    env.putAll(extra);
    TellerProcess balancer = start("balancer", jvmOptions, env);
    balancer.awaitLine("balancer ready", Duration.ofSeconds(60));
    return new Balancer(balancer, https, admin);
  }

  /** Starts a sample backend; waits until it listens and returns its port. */
  public Backend startBackend(String name, Map<String, String> extra) throws InterruptedException {
    Map<String, String> env = baseEnv(name, TestClusters.freePort());
    env.putAll(extra);
    TellerProcess backend = start("sample-backend", env);
    Matcher url =
        backend.awaitLine(
            "sample backend listening on http://127.0.0.1:(\\d+)/", Duration.ofSeconds(60));
    return new Backend(backend, Integer.parseInt(url.group(1)));
  }

  /** The development certificate a balancer generated (to trust it). */
  public Path certificateOf(String balancerName) {
    return dataDir.resolve(balancerName).resolve("tls").resolve("localhost-cert.pem");
  }

  @Override
  public void close() throws InterruptedException {
    List<TellerProcess> all;
    synchronized (processes) {
      all = new ArrayList<>(processes);
      processes.clear();
    }
    for (TellerProcess process : all) {
      process.close();
    }
  }
}
