package io.teller.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.common.testing.TellerProcess;
import io.teller.common.testing.TestClusters;
import io.teller.registry.testing.Http;
import io.teller.registry.testing.RegistryNodes;
import io.vertx.core.json.JsonObject;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Registry processes stopped all at once ({@code kill -9}) and started again on their data
 * directories: what was defined comes back, and damaged files are handled in one line.
 */
@Timeout(300)
class RegistryDurabilityIT {

  /**
   * Where the registered (never contacted) instances listen: below the ports {@code
   * TestClusters.freePort} hands the members (10,000 up), which the registry rightly refuses an
   * instance on loopback (it would be a member's own listener); from 10,000 the test failed
   * whenever a member's port fell among its instances'.
   */
  private static final int INSTANCE_PORTS = 9_000;

  @TempDir Path dir;

  private final String cluster = "durability-" + UUID.randomUUID().toString().substring(0, 8);
  private final int portA = TestClusters.freePort();
  private final int portB = TestClusters.freePort();
  private final List<TellerProcess> processes = new ArrayList<>();

  @AfterEach
  void stopAll() throws InterruptedException {
    for (TellerProcess p : processes) {
      p.close();
    }
  }

  /** A registry node with its cluster port, API port and data directory. */
  private record Node(TellerProcess process, String url) {}

  private Node start(String name, int clusterPort) throws InterruptedException {
    int api = TestClusters.freePort();
    Map<String, String> env = new HashMap<>();
    env.put("TELLER_CLUSTER_NAME", cluster);
    env.put("TELLER_CLUSTER_MEMBERS", "127.0.0.1:" + portA + ",127.0.0.1:" + portB);
    env.put("TELLER_CLUSTER_PORT", String.valueOf(clusterPort));
    env.put("TELLER_REGISTRY_PORT", String.valueOf(api));
    env.put("TELLER_LISTEN_HOST", "127.0.0.1");
    env.put("TELLER_API_TOKEN", RegistryNodes.TOKEN);
    env.put("TELLER_DATA_DIR", dir.resolve(name).toString());
    TellerProcess process = TellerProcess.start(TellerProcess.moduleJar(), env);
    processes.add(process);
    process.awaitLine("registry ready", Duration.ofSeconds(90));
    return new Node(process, "http://127.0.0.1:" + api);
  }

  private Path stateDir(String name) {
    return dir.resolve(name).resolve(RegistryVerticle.STATE_DIR);
  }

  /** What the test wrote: instance ids by service, and the last revision acknowledged. */
  private record Written(Map<String, Set<String>> instances, long lastRevision) {}

  /**
   * Defines three services with two instances each (no TTL) and one TTL instance, and a service
   * removed again; writes go through {@code a} and {@code b} in turn, the last one through {@code
   * b}.
   */
  private static Written write(String a, String b) throws Exception {
    Map<String, Set<String>> instances = new HashMap<>();
    long last = 0;
    for (int s = 0; s < 3; s++) {
      String url = s % 2 == 0 ? a : b;
      Http.Response defined =
          Http.put(url + "/v1/services/svc-" + s, "{\"strategy\": \"least-connections\"}");
      assertThat(defined.status()).isEqualTo(201);
      last = Math.max(last, defined.json().getLong("revision"));
      for (int i = 0; i < 2; i++) {
        Http.Response r =
            Http.post(
                (i == 0 ? a : b) + "/v1/services/svc-" + s + "/instances",
                "{\"host\": \"127.0.0.1\", \"port\": "
                    + (INSTANCE_PORTS + s * 10 + i)
                    + ", \"weight\": 3}");
        assertThat(r.status()).isEqualTo(201);
        instances.computeIfAbsent("svc-" + s, k -> new TreeSet<>()).add(r.json().getString("id"));
        last = Math.max(last, r.json().getLong("revision"));
      }
    }
    Http.Response ttl =
        Http.post(
            a + "/v1/services/svc-0/instances",
            "{\"host\": \"127.0.0.1\", \"port\": "
                + (INSTANCE_PORTS + 999)
                + ", \"ttlSeconds\": 300}");
    assertThat(ttl.status()).isEqualTo(201);
    assertThat(Http.put(a + "/v1/services/temp", "{}").status()).isEqualTo(201);
    Http.Response removed = Http.delete(b + "/v1/services/temp");
    assertThat(removed.status()).isEqualTo(204);
    // The last acknowledged write, through b: a service defined and its revision.
    Http.Response lastWrite = Http.put(b + "/v1/services/svc-last", "{}");
    assertThat(lastWrite.status()).isEqualTo(201);
    instances.put("svc-last", Set.of());
    last = Math.max(ttl.json().getLong("revision"), lastWrite.json().getLong("revision"));
    return new Written(instances, last);
  }

  /**
   * Asserts that {@code url}'s registry holds exactly what was written (no TTL instance, no temp).
   */
  private static void assertHolds(String url, Written written) {
    Set<String> services = new TreeSet<>();
    Http.get(url + "/v1/services")
        .array()
        .forEach(o -> services.add(((JsonObject) o).getString("name")));
    assertThat(services).isEqualTo(written.instances().keySet());
    for (Map.Entry<String, Set<String>> e : written.instances().entrySet()) {
      Set<String> ids = new TreeSet<>();
      Http.get(url + "/v1/services/" + e.getKey() + "/instances")
          .array()
          .forEach(
              o -> {
                JsonObject instance = (JsonObject) o;
                ids.add(instance.getString("id"));
                assertThat(instance.getInteger("weight")).isEqualTo(3);
              });
      assertThat(ids).as("instances of %s", e.getKey()).isEqualTo(e.getValue());
    }
    assertThat(Http.get(url + "/v1/services/svc-1").json().getString("strategy"))
        .isEqualTo("least-connections");
  }

  /** Asserts that a new write gets a revision above every revision acknowledged before. */
  private static void assertRevisionsGoOn(String url, Written written) {
    Http.Response next = Http.put(url + "/v1/services/after-" + written.lastRevision(), "{}");
    assertThat(next.status()).isEqualTo(201);
    assertThat(next.json().getLong("revision")).isGreaterThan(written.lastRevision());
  }

  /** Two nodes, writes through both, then both killed with SIGKILL right after the last answer. */
  Written writeThroughTwoNodesThenKillBoth() throws Exception {
    Node a = start("a", portA);
    Node b = start("b", portB);
    b.process().awaitLine("\\(2 members\\)", Duration.ofSeconds(30));
    Written written = write(a.url(), b.url());
    a.process().kill();
    b.process().kill();
    return written;
  }

  @Test
  void everyNodeKilledRightAfterAnAcknowledgedWriteLosesNothing() throws Exception {
    Written written = writeThroughTwoNodesThenKillBoth();

    Node again = start("a", portA);
    Matcher restored =
        again
            .process()
            .awaitLine(
                "state restored from .*: (\\d+) services and (\\d+) instances",
                Duration.ofSeconds(5));
    assertThat(restored.group(1)).isEqualTo("4");
    assertThat(restored.group(2)).isEqualTo("6");
    assertHolds(again.url(), written);
    assertRevisionsGoOn(again.url(), written);
  }

  @Test
  void withOneNodesDiskLostNothingIsLostWhicheverStartsFirst() throws Exception {
    Written written = writeThroughTwoNodesThenKillBoth();

    // The leader's disk is lost, and that node comes back first: the cluster starts empty ...
    deleteRecursively(dir.resolve("a"));
    Node emptyFirst = start("a", portA);
    assertThat(Http.get(emptyFirst.url() + "/v1/services").array()).isEmpty();
    // ... until the node that kept its copy joins and brings it in.
    Node b2 = start("b", portB);
    b2.process()
        .awaitLine("state restored from .*: 4 services and 6 instances", Duration.ofSeconds(5));
    assertHolds(emptyFirst.url(), written);
    assertRevisionsGoOn(emptyFirst.url(), written);

    // The first node now has its own copy again: lose the other disk, and nothing is lost either.
    Http.Response lastWrite =
        Http.put(
            emptyFirst.url() + "/v1/services/svc-last", "{\"strategy\": \"random-two-choices\"}");
    assertThat(lastWrite.status()).isEqualTo(200);
    emptyFirst.process().kill();
    b2.process().kill();
    deleteRecursively(dir.resolve("b"));
    Node alone = start("a", portA);
    alone
        .process()
        .awaitLine("state restored from .*: 5 services and 6 instances", Duration.ofSeconds(5));
    Map<String, Set<String>> expected = new HashMap<>(written.instances());
    expected.put("after-" + written.lastRevision(), Set.of());
    assertHolds(alone.url(), new Written(expected, lastWrite.json().getLong("revision")));
    assertThat(Http.get(alone.url() + "/v1/services/svc-last").json().getString("strategy"))
        .isEqualTo("random-two-choices");
    assertRevisionsGoOn(alone.url(), new Written(expected, lastWrite.json().getLong("revision")));
  }

  @Test
  void aLogCutInTheMiddleStartsFromWhatWasIntactAndSaysSo() throws Exception {
    Node a = start("a", portA);
    for (int s = 0; s < 4; s++) {
      assertThat(Http.put(a.url() + "/v1/services/svc-" + s, "{}").status()).isEqualTo(201);
    }
    a.process().kill();

    // Records: the log's header, then svc-0 .. svc-3; cut in the middle of svc-2's.
    Path log = stateDir("a").resolve("log");
    byte[] data = Files.readAllBytes(log);
    int at = 8;
    for (int record = 0; record < 3; record++) {
      at += 8 + ByteBuffer.wrap(data, at, 4).getInt();
    }
    int cut = at + 8 + ByteBuffer.wrap(data, at, 4).getInt() / 2;
    try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "rw")) {
      file.setLength(cut);
    }

    Node again = start("a", portA);
    again
        .process()
        .awaitLine(
            "WARN .*state log "
                + log
                + " is damaged at byte "
                + at
                + " \\(half-written record\\): skipped its last "
                + (cut - at)
                + " bytes, kept the 2 changes before them"
                + " \\(up to revision \\d+\\); the damaged file is kept as log\\.damaged-",
            Duration.ofSeconds(5));
    again
        .process()
        .awaitLine("state restored from .*: 2 services and 0 instances", Duration.ofSeconds(5));
    Set<String> services = new TreeSet<>();
    Http.get(again.url() + "/v1/services")
        .array()
        .forEach(o -> services.add(((JsonObject) o).getString("name")));
    assertThat(services).containsExactly("svc-0", "svc-1");
    assertThat(again.process().output()).doesNotContain("\tat ");
  }

  @Test
  void aDamagedSnapshotRefusesToStartInOneLine() throws Exception {
    Node a = start("a", portA);
    assertThat(Http.put(a.url() + "/v1/services/shop", "{}").status()).isEqualTo(201);
    assertThat(a.process().terminate(Duration.ofSeconds(30))).isPresent();

    Path snapshot = stateDir("a").resolve("snapshot");
    byte[] data = Files.readAllBytes(snapshot);
    data[data.length - 3] ^= 0x10;
    Files.write(snapshot, data);

    Map<String, String> env = new HashMap<>();
    env.put("TELLER_CLUSTER_NAME", cluster);
    env.put("TELLER_CLUSTER_MEMBERS", "127.0.0.1:" + portA);
    env.put("TELLER_CLUSTER_PORT", String.valueOf(portA));
    env.put("TELLER_REGISTRY_PORT", String.valueOf(TestClusters.freePort()));
    env.put("TELLER_LISTEN_HOST", "127.0.0.1");
    env.put("TELLER_API_TOKEN", RegistryNodes.TOKEN);
    env.put("TELLER_DATA_DIR", dir.resolve("a").toString());
    TellerProcess refused = TellerProcess.start(TellerProcess.moduleJar(), env);
    processes.add(refused);
    assertThat(refused.awaitExit(Duration.ofSeconds(90))).isEqualTo(2);
    assertThat(refused.output())
        .contains(
            "registry: cannot start: damaged state file " + snapshot + " (bad checksum at byte 8)")
        .doesNotContain("\tat ")
        .doesNotContain("registry ready");
  }

  private static void deleteRecursively(Path path) throws Exception {
    try (var files = Files.walk(path)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
    assertThat(path).doesNotExist();
  }
}
