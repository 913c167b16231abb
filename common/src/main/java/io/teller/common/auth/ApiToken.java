package io.teller.common.auth;

import io.teller.common.config.CommonSettings;
import io.teller.common.config.TellerConfig;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The bearer token that writes need, on the registry's API and on a balancer's admin port: from
 * configuration ({@code api.token}), or generated at first start into {@code <data.dir>/api-token},
 * a file only its owner can read, and read from there afterwards.
 *
 * <p>Programs that share a data directory (the registry and the balancer of {@code ./teller up})
 * share the file, and so one token. Two of them starting at once cannot end up with different
 * tokens: the file is created whole or not at all (a hard link to a finished temporary file, which
 * fails if the file exists), and each program then uses what the file holds, its own token or the
 * one that came first.
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
    if (token.isBlank()) {
      throw new IllegalArgumentException("an API token must not be empty");
    }
    return new ApiToken(token, null, false);
  }

  /**
   * The token {@link CommonSettings#API_TOKEN} gives, or else the one in the data directory's token
   * file (created first if needed). Blocking: call it from a worker.
   */
  public static ApiToken from(TellerConfig config) throws IOException {
    String configured = config.string(CommonSettings.API_TOKEN);
    return configured.isEmpty()
        ? fromDataDir(config.path(CommonSettings.DATA_DIR))
        : configured(configured);
  }

  /** Reads the token file under {@code dataDir}, creating it first if needed. Blocking. */
  public static ApiToken fromDataDir(Path dataDir) throws IOException {
    Path file = dataDir.resolve(FILE_NAME);
    if (Files.exists(file)) {
      return new ApiToken(read(file), file, false);
    }
    Files.createDirectories(dataDir);
    byte[] random = new byte[24];
    new SecureRandom().nextBytes(random);
    String mine = HexFormat.of().formatHex(random);
    // A name of this call's own: two programs must never write into one temporary file.
    Path temp = ownerOnlyTempFile(dataDir);
    boolean created = false;
    try {
      Files.writeString(temp, mine + "\n", StandardCharsets.UTF_8);
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        // On disk before the name appears: a crash must not leave an empty token file behind.
        channel.force(true);
      }
      created = publish(temp, file);
    } finally {
      Files.deleteIfExists(temp);
    }
    String token = read(file);
    return new ApiToken(token, file, created && token.equals(mine));
  }

  /**
   * Gives the finished temporary file the token file's name unless that name exists; true if this
   * call created it.
   */
  private static boolean publish(Path temp, Path file) throws IOException {
    try {
      // link(2) fails if the name exists, atomically; a rename would replace the other's token.
      Files.createLink(file, temp);
      return true;
    } catch (FileAlreadyExistsException e) {
      return false;
    } catch (IOException | UnsupportedOperationException noHardLinks) {
      // A file system without hard links: a move that refuses an existing target, checked just
      // before the rename. Only a start within that instant could still race.
      try {
        Files.move(temp, file);
        return true;
      } catch (FileAlreadyExistsException e) {
        return false;
      }
    }
  }

  private static Path ownerOnlyTempFile(Path dir) throws IOException {
    try {
      return Files.createTempFile(
          dir,
          FILE_NAME + ".",
          ".tmp",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException notPosix) {
      // Not a POSIX file system: createTempFile still makes a file only its owner can use.
      return Files.createTempFile(dir, FILE_NAME + ".", ".tmp");
    }
  }

  private static String read(Path file) throws IOException {
    String token = Files.readString(file, StandardCharsets.UTF_8).trim();
    if (token.isEmpty()) {
      // Guessing a new one could leave two programs with different tokens: the user decides.
      throw new IOException(
          "the API token file " + file + " is empty; delete it to have a new token generated");
    }
    return token;
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

  /** Where the token came from, for a start-up log line: never the token itself. */
  public String origin() {
    if (file == null) {
      return "from configuration (api.token)";
    }
    return (generated ? "generated into " : "read from ") + file;
  }
}
