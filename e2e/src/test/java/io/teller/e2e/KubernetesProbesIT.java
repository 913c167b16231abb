package io.teller.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Probe;
import io.teller.common.config.CommonSettings;
import io.teller.common.config.Setting;
import io.teller.common.testing.Poll;
import io.teller.common.testing.TellerProcess;
import io.teller.common.testing.TestClusters;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kubernetes manifests' containers as real processes on 127.0.0.1: each program started with
 * the settings its manifest gives it (the shared ConfigMap, Kubernetes discovery in DNS mode
 * included), and every probe the manifest declares answered {@code 200} by the program it names.
 * What the pod would provide is stood in for: loopback for the pod's address, {@code localhost} for
 * the registry's headless Service (it resolves to the registry, as the Service resolves to the
 * registry pods), free ports for the listeners, a generated token for the Secret.
 */
@Timeout(240)
class KubernetesProbesIT {

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @TempDir Path dataDir;

  @Test
  void everyProbeIsAnsweredByTheProgramStartedWithItsManifestsSettings() throws Exception {
    KubernetesManifestsTest.Bundle bundle = KubernetesManifestsTest.sources();
    String cluster = "k8s-" + UUID.randomUUID().toString().substring(0, 8);
    String clusterPort = String.valueOf(TestClusters.freePort());
    String token = UUID.randomUUID().toString();
    List<TellerProcess> processes = new ArrayList<>();
    int probes = 0;
    try {
      // The registry first: the others join the cluster through it.
      for (String program : List.of("registry", "balancer", "sample-backend")) {
        Container container = bundle.container(program);
        Map<String, String> env = new LinkedHashMap<>(bundle.envFromConfigMaps(container));
        for (EnvVar var : KubernetesManifestsTest.list(container.getEnv())) {
          if (var.getValue() != null) {
            env.put(var.getName(), var.getValue());
          } else if (var.getValueFrom().getFieldRef() != null) {
            env.put(var.getName(), "127.0.0.1");
          } else {
            env.put(var.getName(), token);
          }
        }
        assertThat(env)
            .containsEntry(CommonSettings.CLUSTER_DISCOVERY.env(), "kubernetes")
            .containsEntry(CommonSettings.CLUSTER_KUBERNETES_MODE.env(), "dns");
        env.put(CommonSettings.CLUSTER_NAME.env(), cluster);
        env.put(CommonSettings.CLUSTER_KUBERNETES_SERVICE.env(), "localhost");
        // One cluster port for all, as in the pods: lite members take the next free one up.
        env.put(CommonSettings.CLUSTER_PORT.env(), clusterPort);
        env.put(CommonSettings.LISTEN_HOST.env(), "127.0.0.1");
        env.put(CommonSettings.DATA_DIR.env(), dataDir.resolve(program).toString());
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (ContainerPort port : container.getPorts()) {
          Setting setting = KubernetesManifestsTest.PORT_SETTINGS.get(program).get(port.getName());
          if (setting != CommonSettings.CLUSTER_PORT) {
            int free = TestClusters.freePort();
            env.put(setting.env(), String.valueOf(free));
            ports.put(port.getName(), free);
          }
        }
        env.keySet().removeIf(name -> !name.startsWith("TELLER_"));
        TellerProcess process = TellerProcess.start(TellerProcess.programJar(program), env);
        processes.add(process);

        for (Probe probe :
            Stream.of(
                    container.getStartupProbe(),
                    container.getReadinessProbe(),
                    container.getLivenessProbe())
                .filter(p -> p != null)
                .toList()) {
          String url =
              "http://127.0.0.1:"
                  + ports.get(probe.getHttpGet().getPort().getStrVal())
                  + probe.getHttpGet().getPath();
          Poll.until(
              Duration.ofSeconds(90),
              () ->
                  assertThat(status(url))
                      .as("%s %s; its output:%n%s", program, url, process.output())
                      .isEqualTo(200));
          probes++;
        }
      }
    } finally {
      for (int i = processes.size() - 1; i >= 0; i--) {
        processes.get(i).close();
      }
    }
    assertThat(probes).isEqualTo(9);
  }

  private static int status(String url) throws Exception {
    try {
      return HTTP.send(
              HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (java.io.IOException e) {
      return -1;
    }
  }
}
