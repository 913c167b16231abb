package io.teller.registry.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
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
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    String token = Files.readString(file).trim();
    assertThat(token).hasSizeGreaterThanOrEqualTo(32);

    ApiToken second = ApiToken.fromDataDir(dir.resolve("data"));
    assertThat(second.generated()).isFalse();
    assertThat(second.accepts("Bearer " + token)).isTrue();
    assertThat(first.accepts("Bearer " + token)).isTrue();
  }

  @Test
  void acceptsOnlyTheBearerToken() {
    ApiToken token = ApiToken.configured("s3cret");
    assertThat(token.accepts("Bearer s3cret")).isTrue();
    assertThat(token.accepts("bearer s3cret")).isTrue();
    assertThat(token.accepts("Bearer s3cre")).isFalse();
    assertThat(token.accepts("Basic s3cret")).isFalse();
    assertThat(token.accepts(null)).isFalse();
    assertThat(token.accepts("Bearer ")).isFalse();
  }
}
