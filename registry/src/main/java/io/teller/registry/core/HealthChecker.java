package io.teller.registry.core;

import io.teller.common.model.HealthCheck;
import io.teller.common.model.Instance;
import io.teller.common.model.InstanceStatus;
import io.teller.common.model.Service;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Active health checks of the instances this registry node holds (so each instance is probed by
 * exactly one node at a time, and a dead node's instances pass to the survivors with its data).
 * Probes are plain HTTP GETs; after {@code healthyThreshold} passes or {@code unhealthyThreshold}
 * failures in a row the status changes through the leader, which publishes it. Confined to the
 * verticle's event loop.
 */
public final class HealthChecker {

  private static final Logger LOG = LoggerFactory.getLogger("teller.registry");
  private static final long TICK_MS = 50;

  private final Vertx vertx;
  private final RegistryService registry;
  private final HttpClient client;
  private final Map<String, Probe> probes = new HashMap<>();
  private long timer = -1;

  /** One instance's probing state. */
  private static final class Probe {
    Instance instance;
    HealthCheck check;
    long nextAtMillis;
    boolean inFlight;
    int passes;
    int failures;
  }

  public HealthChecker(Vertx vertx, RegistryService registry) {
    this.vertx = vertx;
    this.registry = registry;
    this.client =
        vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false).setMaxRedirects(0));
  }

  public void start() {
    timer = vertx.setPeriodic(TICK_MS, t -> tick());
  }

  public void stop() {
    vertx.cancelTimer(timer);
    client.close();
  }

  /** The instances this node now holds, and their services (from a maintenance scan). */
  public void owned(List<Instance> instances, Map<String, Service> services) {
    Set<String> seen = new HashSet<>();
    long now = System.currentTimeMillis();
    for (Instance instance : instances) {
      Service service = services.get(instance.service());
      if (service == null
          || service.healthCheck() == null
          || instance.status() == InstanceStatus.DRAINING) {
        continue;
      }
      seen.add(instance.id());
      Probe probe =
          probes.computeIfAbsent(
              instance.id(),
              id -> {
                Probe p = new Probe();
                p.nextAtMillis = now;
                return p;
              });
      if (probe.check != null && !probe.check.equals(service.healthCheck())) {
        probe.nextAtMillis = now;
      }
      probe.instance = instance;
      probe.check = service.healthCheck();
    }
    probes.keySet().retainAll(seen);
  }

  private void tick() {
    long now = System.currentTimeMillis();
    for (Map.Entry<String, Probe> entry : probes.entrySet()) {
      Probe probe = entry.getValue();
      if (!probe.inFlight && now >= probe.nextAtMillis) {
        probe(entry.getKey(), probe, now);
      }
    }
  }

  private void probe(String id, Probe probe, long now) {
    probe.inFlight = true;
    probe.nextAtMillis = now + probe.check.intervalMs();
    HealthCheck check = probe.check;
    Instance instance = probe.instance;
    RequestOptions options =
        new RequestOptions()
            .setMethod(HttpMethod.GET)
            .setHost(instance.host())
            .setPort(instance.port())
            .setURI(check.path())
            .setConnectTimeout(check.timeoutMs())
            .setIdleTimeout(check.timeoutMs())
            .putHeader("user-agent", "teller-health-check")
            // Which registry node probes: lets an operator (and a test) see that exactly one does.
            .putHeader("x-teller-prober", registry.nodeId());
    client
        .request(options)
        .compose(request -> request.send())
        .compose(response -> response.body().map(body -> response.statusCode()))
        .timeout(check.timeoutMs(), java.util.concurrent.TimeUnit.MILLISECONDS)
        .onComplete(
            result -> {
              probe.inFlight = false;
              if (probes.get(id) != probe) {
                return; // no longer ours
              }
              boolean passed = result.succeeded() && check.passes(result.result());
              if (passed) {
                probe.passes++;
                probe.failures = 0;
              } else {
                probe.failures++;
                probe.passes = 0;
              }
              InstanceStatus status = probe.instance.status();
              if (passed
                  && probe.passes >= check.healthyThreshold()
                  && status != InstanceStatus.HEALTHY) {
                change(
                    probe,
                    InstanceStatus.HEALTHY,
                    "health check passed " + probe.passes + " times");
              } else if (!passed
                  && probe.failures >= check.unhealthyThreshold()
                  && status != InstanceStatus.UNHEALTHY) {
                String why =
                    result.succeeded()
                        ? "status " + result.result()
                        : String.valueOf(result.cause().getMessage());
                change(
                    probe,
                    InstanceStatus.UNHEALTHY,
                    "health check failed " + probe.failures + " times: " + why);
              }
            });
  }

  private void change(Probe probe, InstanceStatus status, String reason) {
    Instance instance = probe.instance;
    // Assume the change until the next scan says otherwise, so it is asked for once.
    probe.instance = instance.withStatus(status, instance.updatedAt());
    registry
        .write(new WriteCommand.SetStatus(instance.id(), status, reason))
        .onFailure(
            e -> {
              LOG.warn(
                  "could not record {} as {}: {}", instance.id(), status.json(), e.getMessage());
              probe.instance = instance;
            });
  }
}
