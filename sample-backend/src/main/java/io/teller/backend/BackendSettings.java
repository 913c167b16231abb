package io.teller.backend;

import io.teller.common.config.Setting;
import io.teller.common.config.SettingType;
import java.util.List;

/** The sample backend's own settings; the shared ones are in {@code CommonSettings}. */
public final class BackendSettings {

  public static final Setting PORT =
      new Setting("backend.port", SettingType.PORT_OR_ZERO, "HTTP port; 0 picks a free port");

  public static final List<Setting> ALL = List.of(PORT);

  private BackendSettings() {}
}
