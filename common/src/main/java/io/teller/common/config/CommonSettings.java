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

  /** {@code cluster.discovery}: the member list from configuration. */
  public static final String DISCOVERY_TCP = "tcp";

  /** {@code cluster.discovery}: Hazelcast's Kubernetes discovery, over the registry's Service. */
  public static final String DISCOVERY_KUBERNETES = "kubernetes";

  public static final Setting CLUSTER_DISCOVERY =
      new Setting(
          "cluster.discovery",
          SettingType.oneOf(DISCOVERY_TCP, DISCOVERY_KUBERNETES),
          "how members are found: tcp (cluster.members) or kubernetes (the registry's Service)");
  public static final Setting CLUSTER_KUBERNETES_MODE =
      new Setting(
          "cluster.kubernetes.mode",
          SettingType.oneOf("dns", "api"),
          "kubernetes discovery: dns (look the headless Service up, no RBAC) or api (read its"
              + " endpoints from the Kubernetes API, needs a Role)");
  public static final Setting CLUSTER_KUBERNETES_SERVICE =
      new Setting(
          "cluster.kubernetes.service",
          SettingType.HOST,
          "kubernetes discovery: the registry's headless Service (its DNS name, or its name in api"
              + " mode)");
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
  public static final Setting CLUSTER_TLS_CERT =
      new Setting(
          "cluster.tls.cert",
          SettingType.OPTIONAL_STRING,
          "event bus over TLS: this node's PEM certificate, signed by cluster.tls.ca; empty (all"
              + " three empty): plain TCP");
  public static final Setting CLUSTER_TLS_KEY =
      new Setting(
          "cluster.tls.key",
          SettingType.OPTIONAL_STRING,
          "event bus over TLS: the PEM private key of cluster.tls.cert");
  public static final Setting CLUSTER_TLS_CA =
      new Setting(
          "cluster.tls.ca",
          SettingType.OPTIONAL_STRING,
          "event bus over TLS: the PEM certificate(s) of the CA that every member's certificate"
              + " must be signed by");
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

  /**
   * {@code api.token}, declared by the programs whose writes it guards (the registry's API, a
   * balancer's admin port), so not in {@link #ALL}: the sample backend's {@code api.token} is the
   * token it sends, with a description of its own.
   */
  public static final Setting API_TOKEN =
      new Setting(
          "api.token",
          SettingType.SECRET,
          "bearer token that writes need (registry API, balancer admin); empty: generated into"
              + " <data.dir>/api-token at first start, shared by programs with the same data.dir");

  /** All shared settings, in the order they are documented. */
  public static final List<Setting> ALL =
      List.of(
          CLUSTER_NAME,
          CLUSTER_MEMBERS,
          CLUSTER_DISCOVERY,
          CLUSTER_KUBERNETES_MODE,
          CLUSTER_KUBERNETES_SERVICE,
          CLUSTER_HOST,
          CLUSTER_PORT,
          CLUSTER_TLS_CERT,
          CLUSTER_TLS_KEY,
          CLUSTER_TLS_CA,
          LISTEN_HOST,
          DATA_DIR);

  private CommonSettings() {}
}
