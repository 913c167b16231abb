package io.teller.registry;

import io.teller.common.config.Setting;
import io.teller.common.config.SettingType;
import java.util.List;

/** The registry's own settings; the shared ones are in {@code CommonSettings}. */
public final class RegistrySettings {

  public static final Setting PORT =
      new Setting("registry.port", SettingType.PORT, "REST API and dashboard port");
  public static final Setting API_TOKEN =
      new Setting(
          "api.token",
          SettingType.SECRET,
          "bearer token for writes; empty: generated into <data.dir>/api-token at first start");

  /** The default of {@link #DASHBOARD_MAX_CLIENTS} (as in the defaults file). */
  public static final int DEFAULT_DASHBOARD_MAX_CLIENTS = 32;

  public static final Setting DASHBOARD_MAX_CLIENTS =
      new Setting(
          "dashboard.max.clients",
          SettingType.integer(1, 10_000, "must be between 1 and 10000"),
          "dashboard pages this node streams to at once; the next one gets 503");

  public static final List<Setting> ALL = List.of(PORT, API_TOKEN, DASHBOARD_MAX_CLIENTS);

  private RegistrySettings() {}
}
