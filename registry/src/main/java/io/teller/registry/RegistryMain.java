package io.teller.registry;

import io.teller.common.cluster.ClusterRole;
import io.teller.common.cluster.MemberListeners;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.config.Setting;
import io.teller.common.config.TellerConfig;
import io.teller.common.launch.TellerLauncher;
import io.teller.common.launch.TellerProgram;
import io.vertx.core.Deployable;
import java.util.List;
import java.util.Map;

/** {@code java -jar teller-registry.jar}: the registry, a data member of the cluster. */
public final class RegistryMain implements TellerProgram {

  public static void main(String[] args) {
    TellerLauncher.main(new RegistryMain(), args);
  }

  @Override
  public String name() {
    return "registry";
  }

  @Override
  public ClusterRole role() {
    return ClusterRole.DATA;
  }

  @Override
  public List<Setting> settings() {
    return RegistrySettings.ALL;
  }

  @Override
  public MemberListeners listeners(TellerConfig config) {
    return new MemberListeners(Map.of("api", config.integer(RegistrySettings.PORT)), false);
  }

  @Override
  public Deployable verticle(TellerConfig config, TellerCluster cluster) {
    return new RegistryVerticle(config, cluster);
  }
}
