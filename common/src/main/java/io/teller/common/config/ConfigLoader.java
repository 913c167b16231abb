package io.teller.common.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a program's configuration with Vert.x Config from three stores, the last one winning:
 *
 * <ol>
 *   <li>classpath defaults ({@code teller-common-defaults.yaml}, then the program's own);
 *   <li>an optional YAML file ({@code --conf FILE} or {@code TELLER_CONFIG});
 *   <li>the environment, restricted to the {@code TELLER_*} names of the declared settings.
 * </ol>
 *
 * <p>The Vert.x 5.0 environment store is flat, so {@code TELLER_CLUSTER_NAME} arrives beside the
 * nested {@code cluster.name}; {@link TellerConfig#validate} maps the two in one place, through
 * {@link Setting#env()}.
 */
public final class ConfigLoader {

  /** The environment variable naming the YAML file, when {@code --conf} is not given. */
  public static final String CONFIG_FILE_ENV = "TELLER_CONFIG";

  private static final Logger LOG = LoggerFactory.getLogger(ConfigLoader.class);
  private static final String COMMON_DEFAULTS = "teller-common-defaults.yaml";

  private ConfigLoader() {}

  /**
   * Loads and validates the configuration.
   *
   * @param vertx any Vert.x instance (a plain one is enough)
   * @param programDefaults the program's classpath defaults resource, e.g. {@code
   *     teller-registry-defaults.yaml}
   * @param file the YAML file, if any; it must exist and be readable
   * @param settings every setting the program declares (common ones included)
   * @return the validated configuration, or a failure with a {@link ConfigException}
   */
  public static Future<TellerConfig> load(
      Vertx vertx, String programDefaults, Optional<Path> file, List<Setting> settings) {
    if (file.isPresent()) {
      Path path = file.get();
      if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
        return Future.failedFuture(
            new ConfigException(
                "cannot read configuration file "
                    + path
                    + (Files.exists(path) ? ": not a readable file" : ": no such file")));
      }
    }
    List<ConfigStoreOptions> stores = new ArrayList<>();
    stores.add(yaml(COMMON_DEFAULTS));
    stores.add(yaml(programDefaults));
    file.ifPresent(path -> stores.add(yaml(path.toString())));
    stores.add(
        new ConfigStoreOptions()
            .setType("env")
            .setConfig(
                new JsonObject()
                    .put("raw-data", true)
                    .put("keys", new JsonArray(settings.stream().map(Setting::env).toList()))));

    ConfigRetriever merged =
        ConfigRetriever.create(
            vertx,
            new ConfigRetrieverOptions()
                .setIncludeDefaultStores(false)
                .setScanPeriod(-1)
                .setStores(stores));
    Future<JsonObject> fileOnly =
        file.isEmpty()
            ? Future.succeededFuture(new JsonObject())
            : ConfigRetriever.create(
                    vertx,
                    new ConfigRetrieverOptions()
                        .setIncludeDefaultStores(false)
                        .setScanPeriod(-1)
                        .addStore(yaml(file.get().toString())))
                .getConfig();
    return Future.all(merged.getConfig(), fileOnly)
        .recover(
            failure ->
                Future.failedFuture(
                    new ConfigException(
                        "cannot read configuration"
                            + file.map(p -> " file " + p).orElse("")
                            + ": "
                            + firstLine(failure))))
        .map(
            all -> {
              JsonObject fileJson = all.resultAt(1);
              TellerConfig.unknownPaths(fileJson, settings)
                  .forEach(
                      path ->
                          LOG.warn(
                              "ignoring unknown setting '{}' in {}", path, file.orElseThrow()));
              return TellerConfig.validate(all.resultAt(0), fileJson, settings);
            })
        .eventually(
            () -> {
              merged.close();
              return Future.succeededFuture();
            });
  }

  private static ConfigStoreOptions yaml(String path) {
    return new ConfigStoreOptions()
        .setType("file")
        .setFormat("yaml")
        .setConfig(new JsonObject().put("path", path));
  }

  private static String firstLine(Throwable failure) {
    Throwable root = failure;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = String.valueOf(root.getMessage());
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
