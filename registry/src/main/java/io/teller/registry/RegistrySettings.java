package io.teller.registry;

import io.teller.common.config.Setting;
import io.teller.common.config.SettingType;
import java.util.List;

/** The registry's own settings; the shared ones are in {@code CommonSettings}. */
public final class RegistrySettings {

  public static final Setting PORT =
      new Setting("registry.port", SettingType.PORT, "REST API and dashboard port");

  public static final List<Setting> ALL = List.of(PORT);

  private RegistrySettings() {}
}
