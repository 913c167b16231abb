package io.teller.registry.api;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The bearer token that registry writes need: from configuration, or generated at first start into
 * a file that only its owner can read, and read from there afterwards.
 */
public final class ApiToken {

  /** The file name under the data directory. */
  public static final String FILE_NAME = "api-token";

  private final String token;
  private final Path file;
  private final boolean generated;

  private ApiToken(String token, Path file, boolean generated) {
    this.token = token;
    this.file = file;
    this.generated = generated;
  }

  /** A token given in configuration. */
  public static ApiToken configured(String token) {
    return new ApiToken(token, null, false);
  }

  /** Reads the token file under {@code dataDir}, creating it first if needed. Blocking. */
  public static ApiToken fromDataDir(Path dataDir) throws IOException {
    Path file = dataDir.resolve(FILE_NAME);
    if (Files.isRegularFile(file)) {
      String token = Files.readString(file, StandardCharsets.UTF_8).trim();
      if (!token.isEmpty()) {
        return new ApiToken(token, file, false);
      }
    }
    Files.createDirectories(dataDir);
    byte[] random = new byte[24];
    new SecureRandom().nextBytes(random);
    String token = HexFormat.of().formatHex(random);
    Path temp = dataDir.resolve(FILE_NAME + ".tmp");
    Files.deleteIfExists(temp);
    try {
      Files.createFile(
          temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException | FileAlreadyExistsException e) {
      Files.createFile(temp);
    }
    Files.writeString(temp, token + "\n", StandardCharsets.UTF_8);
    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return new ApiToken(token, file, true);
  }

  /** Whether {@code header} (the whole Authorization value) carries this token. */
  public boolean accepts(String header) {
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    // Constant time, so the comparison tells nothing about how much of a guess was right.
    return MessageDigest.isEqual(
        header.substring(7).trim().getBytes(StandardCharsets.UTF_8),
        token.getBytes(StandardCharsets.UTF_8));
  }

  /** The token file, or null when the token came from configuration. */
  public Path file() {
    return file;
  }

  /** Whether this start generated the token file. */
  public boolean generated() {
    return generated;
  }
}
