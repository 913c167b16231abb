package io.teller.registry;

import io.teller.common.config.CommonSettings;
import io.teller.common.config.Setting;
import io.teller.common.config.SettingType;
import io.teller.common.net.Cidr;
import java.util.List;

/** The registry's own settings; the shared ones are in {@code CommonSettings}. */
public final class RegistrySettings {

  public static final Setting PORT =
      new Setting("registry.port", SettingType.PORT, "REST API and dashboard port");

  /** The one API token setting, shared with the balancer's admin port. */
  public static final Setting API_TOKEN = CommonSettings.API_TOKEN;

  public static final Setting INSTANCES_ALLOW =
      new Setting(
          "instances.allow",
          Cidr.LIST,
          "comma-separated IPv4/IPv6 ranges (CIDR) instances may be at, checked on the addresses a"
              + " host resolves to at registration and before each health check; empty: any");
  public static final Setting INSTANCES_DENY =
      new Setting(
          "instances.deny",
          Cidr.LIST,
          "comma-separated IPv4/IPv6 ranges (CIDR) instances may never be at; wins over"
              + " instances.allow");

  public static final Setting EVENTS_MAX_CLIENTS =
      new Setting(
          "events.max.clients",
          SettingType.integer(1, 100_000, "must be between 1 and 100000"),
          "clients this node streams /v1/events to at once; the next one gets 503");

  /** The default of {@link #DASHBOARD_MAX_CLIENTS} (as in the defaults file). */
  public static final int DEFAULT_DASHBOARD_MAX_CLIENTS = 32;

  public static final Setting DASHBOARD_MAX_CLIENTS =
      new Setting(
          "dashboard.max.clients",
          SettingType.integer(1, 10_000, "must be between 1 and 10000"),
          "dashboard pages this node streams to at once; the next one gets 503");

  public static final List<Setting> ALL =
      List.of(
          PORT,
          API_TOKEN,
          INSTANCES_ALLOW,
          INSTANCES_DENY,
          EVENTS_MAX_CLIENTS,
          DASHBOARD_MAX_CLIENTS);

  private RegistrySettings() {}
}
