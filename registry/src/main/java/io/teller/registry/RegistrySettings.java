package io.teller.registry;

import io.teller.common.config.CommonSettings;
import io.teller.common.config.Setting;
import io.teller.common.config.SettingType;
import java.util.List;

/** The registry's own settings; the shared ones are in {@code CommonSettings}. */
public final class RegistrySettings {

  public static final Setting PORT =
      new Setting("registry.port", SettingType.PORT, "REST API and dashboard port");

  /** The one API token setting, shared with the balancer's admin port. */
  public static final Setting API_TOKEN = CommonSettings.API_TOKEN;

  public static final List<Setting> ALL = List.of(PORT, API_TOKEN);

  private RegistrySettings() {}
}
