package io.teller.balancer;

import io.teller.common.cluster.ClusterRole;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.config.Setting;
import io.teller.common.config.TellerConfig;
import io.teller.common.launch.TellerLauncher;
import io.teller.common.launch.TellerProgram;
import io.vertx.core.Deployable;
import java.util.List;

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

  @Override
  public Deployable verticle(TellerConfig config, TellerCluster cluster) {
    return new BalancerVerticle(config, cluster);
  }
}
