package io.teller.balancer;

import io.teller.common.config.Setting;
import io.teller.common.config.SettingType;
import java.util.List;

/** The balancer's own settings; the shared ones are in {@code CommonSettings}. */
public final class BalancerSettings {

  public static final Setting ADMIN_PORT =
      new Setting("admin.port", SettingType.PORT, "admin listener: /healthz and /metrics");

  public static final List<Setting> ALL = List.of(ADMIN_PORT);

  private BalancerSettings() {}
}
