package io.teller.balancer;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.teller.balancer.tcp.ListenerSpec;
import io.teller.balancer.tcp.Transports;
import io.teller.common.cluster.ClusterRole;
import io.teller.common.cluster.MemberListeners;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.config.Setting;
import io.teller.common.config.TellerConfig;
import io.teller.common.launch.TellerLauncher;
import io.teller.common.launch.TellerProgram;
import io.vertx.core.Deployable;
import io.vertx.core.VertxOptions;
import io.vertx.core.spi.VertxMetricsFactory;
import io.vertx.core.transport.Transport;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code java -jar teller-balancer.jar}: the balancer, a lite member of the cluster. */
public final class BalancerMain implements TellerProgram {

  public static void main(String[] args) {
    TellerLauncher.main(new BalancerMain(), args);
  }

  @Override
  public String name() {
    return "balancer";
  }

  @Override
  public ClusterRole role() {
    return ClusterRole.LITE;
  }

  @Override
  public List<Setting> settings() {
    return BalancerSettings.ALL;
  }

  /** Vert.x's meters and the balancer's, in one registry that {@code /metrics} shows. */
  private final PrometheusMeterRegistry meters =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  @Override
  public VertxOptions vertxOptions(TellerConfig config) {
    // Per-request HTTP meters are the balancer's own (by service and instance); Vert.x's would
    // count the same requests again, without the service, at a cost on every request.
    return new VertxOptions()
        .setMetricsOptions(
            new MicrometerMetricsOptions()
                .setEnabled(true)
                .setJvmMetricsEnabled(true)
                .addDisabledMetricsCategory(MetricsDomain.HTTP_SERVER)
                .addDisabledMetricsCategory(MetricsDomain.HTTP_CLIENT));
  }

  @Override
  public Transport transport(TellerConfig config) {
    return Transports.choose(config.string(BalancerSettings.TRANSPORT));
  }

  @Override
  public VertxMetricsFactory metricsFactory(TellerConfig config) {
    return new MicrometerMetricsFactory(meters);
  }

  /** HTTPS, HTTP, admin, the configured L4 listeners, and every service's tcpPort. */
  @Override
  public MemberListeners listeners(TellerConfig config) {
    Map<String, Integer> ports = new LinkedHashMap<>();
    ports.put("https", config.integer(BalancerSettings.HTTPS_PORT));
    ports.put("http", config.integer(BalancerSettings.HTTP_PORT));
    ports.put("admin", config.integer(BalancerSettings.ADMIN_PORT));
    for (ListenerSpec tcp : config.list(BalancerSettings.TCP_LISTENERS, ListenerSpec.class)) {
      ports.put("tcp-" + tcp.port(), tcp.port());
    }
    return new MemberListeners(ports, true);
  }

  @Override
  public Deployable verticle(TellerConfig config, TellerCluster cluster) {
    return new BalancerVerticle(config, cluster, meters);
  }
}
