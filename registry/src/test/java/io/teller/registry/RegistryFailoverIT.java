package io.teller.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.common.testing.Poll;
import io.teller.common.testing.TellerProcess;
import io.teller.common.testing.TestClusters;
import io.teller.registry.testing.Http;
import io.teller.registry.testing.RegistryNodes;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Two registry processes; {@code kill -9} of the leading one loses no service and no instance. */
@Timeout(240)
class RegistryFailoverIT {

  /**
   * Where the registered (never contacted) instances listen: below the ports {@code
   * TestClusters.freePort} hands the members (10,000 up), which the registry rightly refuses an
   * instance on loopback (it would be a member's own listener); from 10,000 the test failed
   * whenever a member's port fell among its instances'.
   */
  private static final int INSTANCE_PORTS = 9_000;

  @TempDir Path dir;

  Map<String, String> env(
      String cluster, int seedPort, int clusterPort, int apiPort, Path dataDir) {
    Map<String, String> env = new HashMap<>();
    env.put("TELLER_CLUSTER_NAME", cluster);
    env.put("TELLER_CLUSTER_MEMBERS", "127.0.0.1:" + seedPort);
    env.put("TELLER_CLUSTER_PORT", String.valueOf(clusterPort));
    env.put("TELLER_REGISTRY_PORT", String.valueOf(apiPort));
    env.put("TELLER_LISTEN_HOST", "127.0.0.1");
    env.put("TELLER_API_TOKEN", RegistryNodes.TOKEN);
    env.put("TELLER_DATA_DIR", dataDir.toString());
    return env;
  }

  @Test
  void killingTheLeadingRegistryLosesNothing() throws Exception {
    String cluster = "failover-" + UUID.randomUUID().toString().substring(0, 8);
    int seed = TestClusters.freePort();
    int apiA = TestClusters.freePort();
    int apiB = TestClusters.freePort();
    try (TellerProcess a =
            TellerProcess.start(
                TellerProcess.moduleJar(), env(cluster, seed, seed, apiA, dir.resolve("a")));
        TellerProcess b =
            startAfter(a, env(cluster, seed, TestClusters.freePort(), apiB, dir.resolve("b")))) {
      b.awaitLine(
          "joined cluster '" + cluster + "' as data member .* \\(2 members\\)",
          Duration.ofSeconds(60));
      b.awaitLine("registry ready", Duration.ofSeconds(30));
      String urlA = "http://127.0.0.1:" + apiA;
      String urlB = "http://127.0.0.1:" + apiB;

      // Written through the node that will die, which also leads (it is the oldest).
      Set<String> ids = new HashSet<>();
      for (int s = 0; s < 10; s++) {
        assertThat(
                Http.put(urlA + "/v1/services/svc-" + s, "{\"strategy\": \"least-connections\"}")
                    .status())
            .isEqualTo(201);
        for (int i = 0; i < 5; i++) {
          Http.Response r =
              Http.post(
                  urlA + "/v1/services/svc-" + s + "/instances",
                  "{\"host\": \"127.0.0.1\", \"port\": " + (INSTANCE_PORTS + s * 10 + i) + "}");
          assertThat(r.status()).isEqualTo(201);
          ids.add(r.json().getString("id"));
        }
      }
      long lastRevision = Http.get(urlA + "/v1/services/svc-9").json().getLong("revision");

      // The survivor's change stream, opened before the crash.
      List<Long> sseRevisions = new CopyOnWriteArrayList<>();
      HttpResponse<InputStream> sse =
          Http.client()
              .send(
                  HttpRequest.newBuilder(URI.create(urlB + "/v1/events")).build(),
                  HttpResponse.BodyHandlers.ofInputStream());
      Thread reader = new Thread(() -> readIds(sse.body(), sseRevisions));
      reader.setDaemon(true);
      reader.start();

      a.kill();

      // Everything is still there, on the survivor.
      Poll.until(
          Duration.ofSeconds(10),
          () -> {
            Set<String> seen = new HashSet<>();
            for (int s = 0; s < 10; s++) {
              Http.Response service = Http.get(urlB + "/v1/services/svc-" + s);
              assertThat(service.status()).isEqualTo(200);
              assertThat(service.json().getString("strategy")).isEqualTo("least-connections");
              Http.get(urlB + "/v1/services/svc-" + s + "/instances")
                  .array()
                  .forEach(o -> seen.add(((JsonObject) o).getString("id")));
            }
            assertThat(seen).isEqualTo(ids);
          });

      // And it keeps taking writes, with revisions still growing, and streaming them.
      Http.Response after =
          Http.post(
              urlB + "/v1/services/svc-0/instances",
              "{\"host\": \"127.0.0.1\", \"port\": " + (INSTANCE_PORTS + 999) + "}");
      assertThat(after.status()).isEqualTo(201);
      long newRevision = after.json().getLong("revision");
      assertThat(newRevision).isGreaterThan(lastRevision);
      Poll.until(Duration.ofSeconds(5), () -> assertThat(sseRevisions).contains(newRevision));
      sse.body().close();
    }
  }

  private TellerProcess startAfter(TellerProcess first, Map<String, String> env)
      throws InterruptedException {
    first.awaitLine("registry ready", Duration.ofSeconds(60));
    return TellerProcess.start(TellerProcess.moduleJar(), env);
  }

  private static void readIds(InputStream body, List<Long> into) {
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.startsWith("id: ")) {
          into.add(Long.parseLong(line.substring(4)));
        }
      }
    } catch (Exception e) {
      // closed by the test
    }
  }
}
