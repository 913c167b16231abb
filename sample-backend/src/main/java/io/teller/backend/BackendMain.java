package io.teller.backend;

import io.teller.common.cluster.ClusterRole;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.config.Setting;
import io.teller.common.config.TellerConfig;
import io.teller.common.launch.TellerLauncher;
import io.teller.common.launch.TellerProgram;
import io.vertx.core.Deployable;
import java.util.List;

/** {@code java -jar teller-sample-backend.jar}: a sample backend, a lite member of the cluster. */
public final class BackendMain implements TellerProgram {

  public static void main(String[] args) {
    TellerLauncher.main(new BackendMain(), args);
  }

  @Override
  public String name() {
    return "sample-backend";
  }

  @Override
  public ClusterRole role() {
    return ClusterRole.LITE;
  }

  @Override
  public List<Setting> settings() {
    return BackendSettings.ALL;
  }

  @Override
  public Deployable verticle(TellerConfig config, TellerCluster cluster) {
    return new BackendVerticle(config);
  }
}
