package io.teller.backend;

import io.teller.backend.registration.EventBusRegistryLink;
import io.teller.backend.registration.RestRegistryLink;
import io.teller.common.cluster.ClusterRole;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.config.ConfigException;
import io.teller.common.config.Setting;
import io.teller.common.config.SettingType;
import io.teller.common.config.TellerConfig;
import io.teller.common.launch.TellerLauncher;
import io.teller.common.launch.TellerProgram;
import io.teller.common.model.Service;
import io.teller.common.model.ValidationException;
import io.vertx.core.Deployable;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;

/**
 * {@code java -jar teller-sample-backend.jar}: a sample backend. It joins the cluster as a lite
 * member and registers over the event bus, unless {@code registry.url} is set: then it registers
 * over the REST API and does not join the cluster.
 */
public final class BackendMain implements TellerProgram {

  public static void main(String[] args) {
    TellerLauncher.main(new BackendMain(), args);
  }

  @Override
  public String name() {
    return "sample-backend";
  }

  @Override
  public ClusterRole role() {
    return ClusterRole.LITE;
  }

  @Override
  public boolean joinsCluster(TellerConfig config) {
    return config.string(BackendSettings.REGISTRY_URL).isEmpty();
  }

  @Override
  public List<Setting> settings() {
    return BackendSettings.ALL;
  }

  @Override
  public void check(TellerConfig config) {
    String service = config.string(BackendSettings.SERVICE);
    try {
      Service.checkName(service, "service");
    } catch (ValidationException e) {
      throw ConfigException.badValue(BackendSettings.SERVICE, service, e.detail());
    }
    String host = config.string(BackendSettings.ADVERTISE_HOST);
    if (!host.isEmpty()) {
      SettingType.HOST.parse(BackendSettings.ADVERTISE_HOST, host);
    }
    String route = config.string(BackendSettings.ROUTE);
    if (!route.startsWith("/")
        || route.contains("?")
        || route.contains("#")
        || route.chars().anyMatch(c -> c <= ' ')) {
      throw ConfigException.badValue(
          BackendSettings.ROUTE, route, "must start with / and hold no spaces, ? or #");
    }
    checkRegistryUrl(config.string(BackendSettings.REGISTRY_URL));
  }

  private static void checkRegistryUrl(String url) {
    if (url.isEmpty()) {
      return;
    }
    try {
      URI uri = new URI(url);
      if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
          || uri.getHost() == null
          || uri.getQuery() != null
          || uri.getFragment() != null) {
        throw ConfigException.badValue(
            BackendSettings.REGISTRY_URL,
            url,
            "must be an http:// or https:// URL such as http://127.0.0.1:9000");
      }
    } catch (URISyntaxException e) {
      throw ConfigException.badValue(
          BackendSettings.REGISTRY_URL, url, "is not a URL: " + e.getReason());
    }
  }

  @Override
  public Deployable verticle(TellerConfig config, TellerCluster cluster) {
    return new BackendVerticle(
        config,
        vertx ->
            new EventBusRegistryLink(
                vertx, cluster::memberId, config.string(BackendSettings.ROUTE)));
  }

  @Override
  public Deployable standaloneVerticle(TellerConfig config) {
    return new BackendVerticle(
        config,
        vertx ->
            new RestRegistryLink(
                vertx,
                config.string(BackendSettings.REGISTRY_URL),
                config.string(BackendSettings.API_TOKEN),
                config.string(BackendSettings.ROUTE)));
  }
}
