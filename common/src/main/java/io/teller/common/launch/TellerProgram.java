package io.teller.common.launch;

import io.teller.common.cluster.ClusterRole;
import io.teller.common.cluster.MemberListeners;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.config.Setting;
import io.teller.common.config.TellerConfig;
import io.vertx.core.Deployable;
import io.vertx.core.VertxOptions;
import io.vertx.core.spi.VertxMetricsFactory;
import io.vertx.core.transport.Transport;
import java.util.List;

/**
 * What the launcher needs to know about one Teller program (registry, balancer, sample backend).
 */
public interface TellerProgram {

  /** Short name, e.g. {@code registry}; used in log lines and the defaults resource name. */
  String name();

  /** How this program joins the cluster. */
  ClusterRole role();

  /**
   * Whether this run joins the cluster. A program that can also work without it (the sample backend
   * registering over the REST API) returns false for such a configuration; the launcher then starts
   * a plain Vert.x and deploys {@link #standaloneVerticle(TellerConfig)}.
   */
  default boolean joinsCluster(TellerConfig config) {
    return true;
  }

  /**
   * The ports this program listens on, published to the cluster when it joins so that the registry
   * refuses instances pointing at them ({@link MemberListeners}).
   */
  default MemberListeners listeners(TellerConfig config) {
    return MemberListeners.NONE;
  }

  /** The program's own settings (the common ones are added by the launcher). */
  List<Setting> settings();

  /**
   * Checks settings whose validity depends on each other; throw a {@link
   * io.teller.common.config.ConfigException} naming the setting at fault.
   */
  default void check(TellerConfig config) {}

  /** The verticle that runs the program; its start future completes when it is ready. */
  Deployable verticle(TellerConfig config, TellerCluster cluster);

  /**
   * The verticle for a run that does not join the cluster; called only when {@link
   * #joinsCluster(TellerConfig)} is false.
   */
  default Deployable standaloneVerticle(TellerConfig config) {
    throw new UnsupportedOperationException(name() + " always joins the cluster");
  }

  /** The options of this program's Vert.x (its metrics options, say). */
  default VertxOptions vertxOptions(TellerConfig config) {
    return new VertxOptions();
  }

  /**
   * The network transport of this program's Vert.x, or null for Vert.x's own choice (NIO, unless
   * {@link #vertxOptions} prefer a native one).
   */
  default Transport transport(TellerConfig config) {
    return null;
  }

  /** What measures this program's Vert.x, or null for no Vert.x metrics. */
  default VertxMetricsFactory metricsFactory(TellerConfig config) {
    return null;
  }

  /** The classpath resource with this program's defaults. */
  default String defaultsResource() {
    return "teller-" + name() + "-defaults.yaml";
  }
}
