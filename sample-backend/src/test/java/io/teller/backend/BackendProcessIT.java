package io.teller.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.common.cluster.ClusterRole;
import io.teller.common.testing.TellerProcess;
import io.teller.common.testing.TestClusters;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The sample backend jar as a process: joins, takes a free port, serves. */
@Timeout(180)
class BackendProcessIT {

  @TempDir Path dir;

  @Test
  void joinsAndServesOnAFreePort() throws Exception {
    try (TestClusters clusters = new TestClusters("backend-it")) {
      clusters.start(ClusterRole.DATA);
      Map<String, String> env = Map.of(
          "TELLER_CLUSTER_NAME", clusters.name(),
          "TELLER_CLUSTER_MEMBERS", String.join(",", clusters.members()),
          "TELLER_CLUSTER_PORT", String.valueOf(TestClusters.freePort()),
          "TELLER_LISTEN_HOST", "127.0.0.1",
          "TELLER_DATA_DIR", dir.toString());
      try (TellerProcess backend = TellerProcess.start(TellerProcess.moduleJar(), env)) {
        backend.awaitLine("joined cluster '" + clusters.name() + "' as lite member .* \\(2 members\\)",
            Duration.ofSeconds(60));
        Matcher url = backend.awaitLine("sample backend listening on (http://127.0.0.1:(\\d+)/)",
            Duration.ofSeconds(30));
        assertThat(Integer.parseInt(url.group(2))).isPositive();
        HttpResponse<String> response = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(URI.create(url.group(1))).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("\"address\":\"127.0.0.1:" + url.group(2) + "\"");
      }
    }
  }
}
