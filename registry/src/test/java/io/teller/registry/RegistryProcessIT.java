package io.teller.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.common.testing.TellerProcess;
import io.teller.common.testing.TestClusters;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The registry jar as a process: configuration layering, user mistakes, start and stop. */
@Timeout(180)
class RegistryProcessIT {

  @TempDir Path dir;

  @Test
  void environmentBeatsFileBeatsDefault() throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("teller.yaml"),
            """
        cluster:
          name: from-file
          port: 6000
        registry:
          port: 9900
        """);
    Map<String, String> env =
        Map.of("TELLER_CLUSTER_NAME", "from-env", "TELLER_DATA_DIR", dir.toString());
    try (TellerProcess p =
        TellerProcess.start(
            TellerProcess.moduleJar(), env, "--conf", file.toString(), "--print-config")) {
      assertThat(p.awaitExit(Duration.ofSeconds(60))).isZero();
      assertThat(p.output())
          .contains("TELLER_CLUSTER_NAME=from-env  # cluster.name, from environment")
          .contains("TELLER_CLUSTER_PORT=6000  # cluster.port, from file")
          .contains("TELLER_REGISTRY_PORT=9900  # registry.port, from file")
          .contains("TELLER_CLUSTER_HOST=127.0.0.1  # cluster.host, from default");
    }
  }

  @Test
  void theConfigFileCanComeFromTellerConfig() throws Exception {
    Path file = Files.writeString(dir.resolve("t.yaml"), "registry:\n  port: 9901\n");
    try (TellerProcess p =
        TellerProcess.start(
            TellerProcess.moduleJar(),
            Map.of("TELLER_CONFIG", file.toString()),
            "--print-config")) {
      assertThat(p.awaitExit(Duration.ofSeconds(60))).isZero();
      assertThat(p.output()).contains("TELLER_REGISTRY_PORT=9901  # registry.port, from file");
    }
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "TELLER_REGISTRY_PORT   | 0          | bad configuration: TELLER_REGISTRY_PORT (registry.port) = \"0\": must be a port number between 1 and 65535",
        "TELLER_CLUSTER_PORT    | 65536      | bad configuration: TELLER_CLUSTER_PORT (cluster.port) = \"65536\": must be a port number between 1 and 65535",
        "TELLER_CLUSTER_MEMBERS | reg istry  | bad configuration: TELLER_CLUSTER_MEMBERS (cluster.members) = \"reg istry\": \"reg istry\" is not a host or host:port",
        "TELLER_CLUSTER_HOST    | not_a_host | bad configuration: TELLER_CLUSTER_HOST (cluster.host) = \"not_a_host\": must be a host name or an IP address",
        "TELLER_CONFIG          | /no/such/teller.yaml | cannot read configuration file /no/such/teller.yaml: no such file",
      })
  void aUserMistakeIsOneLineAndExitCodeTwo(String variable, String value, String message)
      throws Exception {
    try (TellerProcess p =
        TellerProcess.start(TellerProcess.moduleJar(), Map.of(variable, value))) {
      assertThat(p.awaitExit(Duration.ofSeconds(60))).isEqualTo(2);
      assertThat(p.output())
          .contains("registry: " + message)
          .doesNotContain("\tat ")
          .doesNotContain("Exception");
    }
  }

  @Test
  void anUnknownOptionIsAUserMistake() throws Exception {
    try (TellerProcess p =
        TellerProcess.start(TellerProcess.moduleJar(), Map.of(), "--frobnicate")) {
      assertThat(p.awaitExit(Duration.ofSeconds(60))).isEqualTo(2);
      assertThat(p.output()).contains("unknown option \"--frobnicate\"").doesNotContain("\tat ");
    }
  }

  @Test
  void startsJoinsServesAndStopsOnSigterm() throws Exception {
    int apiPort = TestClusters.freePort();
    int clusterPort = TestClusters.freePort();
    String cluster = "registry-it-" + UUID.randomUUID().toString().substring(0, 8);
    Map<String, String> env = new HashMap<>();
    env.put("TELLER_CLUSTER_NAME", cluster);
    env.put("TELLER_CLUSTER_PORT", String.valueOf(clusterPort));
    env.put("TELLER_CLUSTER_MEMBERS", "127.0.0.1:" + clusterPort);
    env.put("TELLER_REGISTRY_PORT", String.valueOf(apiPort));
    env.put("TELLER_LISTEN_HOST", "127.0.0.1");
    env.put("TELLER_DATA_DIR", dir.toString());
    env.put("TELLER_API_TOKEN", "it-token");
    env.put("TELLER_INSTANCES_DENY", "127.0.0.5/32");
    try (TellerProcess p = TellerProcess.start(TellerProcess.moduleJar(), env)) {
      p.awaitLine(
          "joined cluster '" + cluster + "' as data member .* \\(1 members\\)",
          Duration.ofSeconds(60));
      p.awaitLine(
          "registry API listening on http://127.0.0.1:" + apiPort + "/v1", Duration.ofSeconds(30));
      p.awaitLine("registry ready in \\d+ ms", Duration.ofSeconds(30));

      HttpResponse<String> health =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + apiPort + "/healthz"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).isEqualTo(200);
      assertThat(health.body()).contains("\"status\":\"UP\"").doesNotContain(cluster);

      // The program published its API port to the cluster: an instance there is refused, as is
      // one in the range TELLER_INSTANCES_DENY names.
      assertThat(register(apiPort, "127.0.0.1", apiPort))
          .contains("\"field\" : \"port\"")
          .contains("is the api listener of cluster member 127.0.0.1:" + clusterPort);
      assertThat(register(apiPort, "127.0.0.5", TestClusters.freePort()))
          .contains("\"field\" : \"host\"")
          .contains("127.0.0.5 is in instances.deny (127.0.0.5/32)");

      assertThat(p.terminate(Duration.ofSeconds(30))).isPresent();
      p.awaitLine("registry stopping", Duration.ofSeconds(5));
      p.awaitLine("registry stopped", Duration.ofSeconds(5));
    }
  }

  /** Registers an instance; the answer's body, which must be a 400. */
  private static String register(int apiPort, String host, int port) throws Exception {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + apiPort + "/v1/services/it/instances"))
                    .header("authorization", "Bearer it-token")
                    .header("content-type", "application/json")
                    .POST(
                        HttpRequest.BodyPublishers.ofString(
                            "{\"host\": \"" + host + "\", \"port\": " + port + "}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
    return response.body();
  }
}
