package io.teller.common.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.teller.common.config.CommonSettings;
import io.teller.common.config.TellerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApiTokenTest {

  @TempDir Path dir;

  @Test
  void generatedOnceIntoAFileOnlyItsOwnerCanReadThenReused() throws Exception {
    ApiToken first = ApiToken.fromDataDir(dir.resolve("data"));
    assertThat(first.generated()).isTrue();
    Path file = dir.resolve("data").resolve(ApiToken.FILE_NAME);
    assertThat(first.file()).isEqualTo(file);
    assertThat(first.origin()).isEqualTo("generated into " + file);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    String token = Files.readString(file).trim();
    assertThat(token).hasSizeGreaterThanOrEqualTo(32);
    try (Stream<Path> files = Files.list(dir.resolve("data"))) {
      assertThat(files).as("no temporary file left behind").containsExactly(file);
    }

    ApiToken second = ApiToken.fromDataDir(dir.resolve("data"));
    assertThat(second.generated()).isFalse();
    assertThat(second.origin()).isEqualTo("read from " + file);
    assertThat(second.accepts("Bearer " + token)).isTrue();
    assertThat(first.accepts("Bearer " + token)).isTrue();
  }

  /**
   * The registry and the balancer of {@code ./teller up} share a data directory: programs starting
   * at the same instant must all end up with the one token the file holds, and only one of them may
   * say it generated it. Many rounds, each a fresh directory, so that the starts do overlap.
   */
  @Test
  void programsStartingAtOnceAgreeOnOneToken() throws Exception {
    int programs = 8;
    ExecutorService pool = Executors.newFixedThreadPool(programs);
    try {
      for (int round = 0; round < 30; round++) {
        Path data = dir.resolve("round-" + round);
        CyclicBarrier start = new CyclicBarrier(programs);
        List<Future<ApiToken>> starts = new ArrayList<>();
        for (int i = 0; i < programs; i++) {
          starts.add(
              pool.submit(
                  () -> {
                    start.await();
                    return ApiToken.fromDataDir(data);
                  }));
        }
        List<ApiToken> tokens = new ArrayList<>();
        for (Future<ApiToken> f : starts) {
          tokens.add(f.get(30, TimeUnit.SECONDS));
        }
        String onDisk = Files.readString(data.resolve(ApiToken.FILE_NAME)).trim();
        int generated = 0;
        for (ApiToken token : tokens) {
          assertThat(token.accepts("Bearer " + onDisk)).as("round %d", round).isTrue();
          generated += token.generated() ? 1 : 0;
        }
        assertThat(generated).as("round %d: programs that generated the token", round).isOne();
        try (Stream<Path> files = Files.list(data)) {
          assertThat(files).as("round %d: only the token file", round).hasSize(1);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void anEmptyTokenFileIsAnErrorNotANewToken() throws Exception {
    Files.createDirectories(dir);
    Path file = Files.writeString(dir.resolve(ApiToken.FILE_NAME), "\n");
    assertThatThrownBy(() -> ApiToken.fromDataDir(dir))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining("is empty");
    assertThat(Files.readString(file)).isEqualTo("\n");
  }

  @Test
  void theSettingWinsOverTheFile() throws Exception {
    ApiToken.fromDataDir(dir);
    TellerConfig config =
        TellerConfig.of(Map.of(CommonSettings.API_TOKEN, "s3cret", CommonSettings.DATA_DIR, dir));
    ApiToken token = ApiToken.from(config);
    assertThat(token.file()).isNull();
    assertThat(token.accepts("Bearer s3cret")).isTrue();
    assertThat(token.origin()).doesNotContain("s3cret");

    ApiToken fromFile = ApiToken.from(config.with(CommonSettings.API_TOKEN, ""));
    assertThat(fromFile.file()).isEqualTo(dir.resolve(ApiToken.FILE_NAME));
    assertThat(fromFile.accepts("Bearer s3cret")).isFalse();
  }

  @Test
  void acceptsOnlyTheBearerToken() {
    ApiToken token = ApiToken.configured("s3cret");
    assertThat(token.accepts("Bearer s3cret")).isTrue();
    assertThat(token.accepts("bearer s3cret")).isTrue();
    assertThat(token.accepts("Bearer s3cre")).isFalse();
    assertThat(token.accepts("Bearer s3cret2")).isFalse();
    assertThat(token.accepts("Basic s3cret")).isFalse();
    assertThat(token.accepts("s3cret")).isFalse();
    assertThat(token.accepts(null)).isFalse();
    assertThat(token.accepts("Bearer ")).isFalse();
  }
}
