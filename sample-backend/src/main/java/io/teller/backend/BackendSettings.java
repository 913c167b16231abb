package io.teller.backend;

import io.teller.common.config.Setting;
import io.teller.common.config.SettingType;
import java.util.List;

/** The sample backend's own settings; the shared ones are in {@code CommonSettings}. */
public final class BackendSettings {

  public static final Setting PORT =
      new Setting("backend.port", SettingType.PORT_OR_ZERO, "HTTP port; 0 picks a free port");
  public static final Setting SERVICE =
      new Setting(
          "service",
          SettingType.STRING,
          "the service this backend registers in (a DNS label: a-z, 0-9 and -)");
  public static final Setting WEIGHT =
      new Setting(
          "weight",
          SettingType.integer(0, 1000, "must be an integer from 0 to 1000"),
          "the weight it registers with; 0 takes no new traffic");
  public static final Setting ADVERTISE_HOST =
      new Setting(
          "advertise.host",
          SettingType.OPTIONAL_STRING,
          "the host the balancer connects to; empty: cluster.host");
  public static final Setting TTL =
      new Setting(
          "backend.ttl",
          SettingType.integer(1, 86_400, "must be 1 to 86400 seconds"),
          "seconds the registry keeps it without a heartbeat; it heartbeats every third of that");
  public static final Setting CONCURRENCY =
      new Setting(
          "backend.concurrency",
          SettingType.integer(0, 100_000, "must be 0 to 100000"),
          "requests served at once, the rest wait in line (first come, first served); 0: no limit");
  public static final Setting DRAIN_MS =
      new Setting(
          "backend.drain.ms",
          SettingType.integer(0, 3_600_000, "must be 0 to 3600000 ms"),
          "on stop, how long open requests may still take before the server closes");
  public static final Setting WARMUP_MS =
      new Setting(
          "backend.warmup.ms",
          SettingType.integer(0, 3_600_000, "must be 0 to 3600000 ms"),
          "imitates a cold JVM: requests served this long after start are answered later, the"
              + " first by backend.warmup.delay.ms, tapering to no delay; 0: warm from the start");
  public static final Setting WARMUP_DELAY_MS =
      new Setting(
          "backend.warmup.delay.ms",
          SettingType.integer(0, 600_000, "must be 0 to 600000 ms"),
          "the extra delay of a request served at the very start of the warm-up");
  public static final Setting ROUTE =
      new Setting(
          "backend.route",
          SettingType.STRING,
          "path prefix the service is created with if this backend is its first instance");
  public static final Setting REGISTRY_URL =
      new Setting(
          "registry.url",
          SettingType.OPTIONAL_STRING,
          "registry API, e.g. http://127.0.0.1:9000: register over REST without joining the cluster;"
              + " empty: over the event bus");
  public static final Setting API_TOKEN =
      new Setting("api.token", SettingType.SECRET, "the registry's bearer token (REST mode)");

  public static final List<Setting> ALL =
      List.of(
          PORT,
          SERVICE,
          WEIGHT,
          ADVERTISE_HOST,
          TTL,
          CONCURRENCY,
          DRAIN_MS,
          WARMUP_MS,
          WARMUP_DELAY_MS,
          ROUTE,
          REGISTRY_URL,
          API_TOKEN);

  private BackendSettings() {}
}
