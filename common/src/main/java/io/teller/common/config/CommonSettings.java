package io.teller.common.config;

import java.util.List;

/** The settings every Teller program shares: cluster membership and the data directory. */
public final class CommonSettings {

  public static final Setting CLUSTER_NAME =
      new Setting(
          "cluster.name",
          SettingType.NAME,
          "Hazelcast cluster name; programs join only a cluster of the same name");
  public static final Setting CLUSTER_MEMBERS =
      new Setting(
          "cluster.members",
          SettingType.HOST_PORT_LIST,
          "comma-separated host[:port] of cluster members to join (TCP-IP discovery)");
  public static final Setting CLUSTER_HOST =
      new Setting(
          "cluster.host",
          SettingType.HOST,
          "the address this node binds and advertises for Hazelcast and the event bus");
  public static final Setting CLUSTER_PORT =
      new Setting(
          "cluster.port",
          SettingType.PORT,
          "Hazelcast port; the next free one is taken if it is in use");
  public static final Setting LISTEN_HOST =
      new Setting(
          "listen.host",
          SettingType.HOST,
          "the address this program's HTTP listeners bind (0.0.0.0: every interface)");
  public static final Setting DATA_DIR =
      new Setting(
          "data.dir",
          SettingType.DIRECTORY,
          "where generated files (API token, development certificate, state) are kept");

  /** All shared settings, in the order they are documented. */
  public static final List<Setting> ALL =
      List.of(CLUSTER_NAME, CLUSTER_MEMBERS, CLUSTER_HOST, CLUSTER_PORT, LISTEN_HOST, DATA_DIR);

  private CommonSettings() {}
}
