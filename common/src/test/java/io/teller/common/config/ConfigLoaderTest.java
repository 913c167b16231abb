package io.teller.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Layering of classpath defaults and a YAML file, and the errors for bad values. */
class ConfigLoaderTest {

  static final Setting TEST_PORT = new Setting("test.port", SettingType.PORT, "a port");
  static final Setting TEST_FLAG = new Setting("test.flag", SettingType.BOOLEAN, "a flag");
  static final Setting TEST_MODE =
      new Setting("test.mode", SettingType.oneOf("fast", "safe"), "a mode");
  static Vertx vertx;

  @TempDir Path dir;

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopVertx() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  static List<Setting> settings() {
    List<Setting> all = new ArrayList<>(CommonSettings.ALL);
    all.addAll(List.of(TEST_PORT, TEST_FLAG, TEST_MODE));
    return all;
  }

  TellerConfig load(Optional<Path> file) throws Exception {
    try {
      return ConfigLoader.load(vertx, "teller-test-defaults.yaml", file, settings())
          .toCompletionStage()
          .toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  Path yaml(String text) throws Exception {
    Path file = Files.createTempFile(dir, "teller", ".yaml");
    Files.writeString(file, text);
    return file;
  }

  @Test
  void defaultsComeFromTheClasspath() throws Exception {
    TellerConfig config = load(Optional.empty());
    assertThat(config.string(CommonSettings.CLUSTER_NAME)).isEqualTo("teller");
    assertThat(config.list(CommonSettings.CLUSTER_MEMBERS)).containsExactly("127.0.0.1");
    assertThat(config.integer(CommonSettings.CLUSTER_PORT)).isEqualTo(5701);
    assertThat(config.path(CommonSettings.DATA_DIR))
        .isEqualTo(Path.of(System.getProperty("user.home"), ".teller"));
    assertThat(config.integer(TEST_PORT)).isEqualTo(8000);
    assertThat(config.bool(TEST_FLAG)).isFalse();
    assertThat(config.source(TEST_PORT)).isEqualTo(TellerConfig.Source.DEFAULT);
  }

  @Test
  void aFileValueBeatsTheDefaultAndLeavesTheOthers() throws Exception {
    Path file =
        yaml(
            """
        cluster:
          name: demo
          members: [ "10.0.0.1:5701", registry ]
        test:
          port: 8100
        """);
    TellerConfig config = load(Optional.of(file));
    assertThat(config.string(CommonSettings.CLUSTER_NAME)).isEqualTo("demo");
    assertThat(config.list(CommonSettings.CLUSTER_MEMBERS))
        .containsExactly("10.0.0.1:5701", "registry");
    assertThat(config.integer(TEST_PORT)).isEqualTo(8100);
    assertThat(config.source(TEST_PORT)).isEqualTo(TellerConfig.Source.FILE);
    // Not in the file: the defaults stay, nested siblings included.
    assertThat(config.string(CommonSettings.CLUSTER_HOST)).isEqualTo("127.0.0.1");
    assertThat(config.integer(CommonSettings.CLUSTER_PORT)).isEqualTo(5701);
    assertThat(config.string(TEST_MODE)).isEqualTo("safe");
  }

  @ParameterizedTest(name = "{0}: {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "test:\\n  port: 70000           | TELLER_TEST_PORT (test.port) = \"70000\": must be a port number between 1 and 65535",
        "test:\\n  port: 0               | TELLER_TEST_PORT (test.port) = \"0\"",
        "test:\\n  port: eighty          | TELLER_TEST_PORT (test.port) = \"eighty\"",
        "test:\\n  flag: maybe           | TELLER_TEST_FLAG (test.flag) = \"maybe\": must be true or false",
        "test:\\n  mode: turbo           | TELLER_TEST_MODE (test.mode) = \"turbo\": must be one of fast, safe",
        "cluster:\\n  members: 'a b,c'   | TELLER_CLUSTER_MEMBERS (cluster.members) = \"a b,c\": \"a b\" is not a host",
        "cluster:\\n  members: 'x:99999' | \"x:99999\" is not a host or host:port",
        "cluster:\\n  host: 'bad_host!'  | TELLER_CLUSTER_HOST (cluster.host) = \"bad_host!\": must be a host name or an IP address",
        "cluster:\\n  host: 300.1.1.1    | TELLER_CLUSTER_HOST (cluster.host) = \"300.1.1.1\"",
        "cluster:\\n  name: 'a/b'        | TELLER_CLUSTER_NAME (cluster.name) = \"a/b\"",
        "cluster:\\n  port: [1, 2]       | TELLER_CLUSTER_PORT (cluster.port)",
      })
  void aBadValueNamesTheSettingAndTheValue(String text, String expected) throws Exception {
    Path file = yaml(text.replace("\\n", "\n"));
    assertThatThrownBy(() -> load(Optional.of(file)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(expected.trim())
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @Test
  void aMissingFileIsNamed() {
    Path missing = dir.resolve("nope.yaml");
    assertThatThrownBy(() -> load(Optional.of(missing)))
        .isInstanceOf(ConfigException.class)
        .hasMessage("cannot read configuration file " + missing + ": no such file");
  }

  @Test
  void malformedYamlIsNamedInOneLine() throws Exception {
    Path file = yaml("cluster: [unclosed\n");
    assertThatThrownBy(() -> load(Optional.of(file)))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("cannot read configuration file " + file + ": ")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @Test
  void aDataDirThatIsAFileIsRefused() throws Exception {
    Path plainFile = Files.writeString(dir.resolve("plain"), "x");
    Path file = yaml("data:\n  dir: " + plainFile + "\n");
    assertThatThrownBy(() -> load(Optional.of(file)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TELLER_DATA_DIR (data.dir)")
        .hasMessageContaining("exists and is not a directory");
  }

  @Test
  void unknownKeysInTheFileAreIgnoredNotFatal() throws Exception {
    Path file = yaml("clustr:\n  name: typo\n");
    TellerConfig config = load(Optional.of(file));
    assertThat(config.string(CommonSettings.CLUSTER_NAME)).isEqualTo("teller");
  }
}
