package io.teller.registry.core;

import io.teller.common.model.HealthCheck;
import io.teller.common.model.Instance;
import io.teller.common.model.InstanceStatus;
import io.teller.common.model.Service;
import io.teller.registry.guard.InstanceGuard;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Active health checks of the instances this registry node holds (so each instance is probed by
 * exactly one node at a time, and a dead node's instances pass to the survivors with its data).
 * Probes are plain HTTP GETs ({@link HealthRequest}: bounded in time and in what they read), sent
 * only to an address the {@link InstanceGuard} passes at that moment; after {@code
 * healthyThreshold} passes or {@code unhealthyThreshold} failures in a row the status changes
 * through the leader, which publishes it. Confined to the verticle's event loop.
 */
public final class HealthChecker {

  private static final Logger LOG = LoggerFactory.getLogger("teller.registry");
  private static final long TICK_MS = 50;

  private final Vertx vertx;
  private final RegistryService registry;
  private final InstanceGuard guard;
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
    boolean refusedSaid;
  }

  public HealthChecker(Vertx vertx, RegistryService registry, InstanceGuard guard) {
    this.vertx = vertx;
    this.registry = registry;
    this.guard = guard;
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
    long deadline = System.nanoTime() + check.timeoutMs() * 1_000_000L;
    // Resolved and checked at every probe: a name may point elsewhere than when it was registered.
    guard
        .target(instance.host(), instance.port())
        .timeout(check.timeoutMs(), TimeUnit.MILLISECONDS)
        .compose(
            address ->
                HealthRequest.send(
                    vertx,
                    client,
                    address,
                    instance.host(),
                    instance.port(),
                    check.path(),
                    Math.max(1, (deadline - System.nanoTime()) / 1_000_000L),
                    registry.nodeId()))
        .onComplete(
            result -> {
              probe.inFlight = false;
              if (probes.get(id) != probe) {
                return; // no longer ours
              }
              if (result.failed() && result.cause() instanceof InstanceGuard.Refused refused) {
                refused(id, probe, refused.getMessage());
                return;
              }
              probe.refusedSaid = false;
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

  /**
   * The instance's address is one the registry does not connect to (any more): no probe was sent,
   * and it is unhealthy at once, not after a threshold (waiting would not change the verdict). Said
   * once for as long as it stays refused; it is probed again at every interval, and comes back
   * through the healthy threshold when its address passes again.
   */
  private void refused(String id, Probe probe, String why) {
    probe.passes = 0;
    probe.failures = Math.max(probe.failures, probe.check.unhealthyThreshold());
    if (!probe.refusedSaid) {
      probe.refusedSaid = true;
      LOG.warn("health check of instance {} not sent: {}", id, why);
    }
    if (probe.instance.status() != InstanceStatus.UNHEALTHY) {
      change(probe, InstanceStatus.UNHEALTHY, "health check not sent: " + why);
    }
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
