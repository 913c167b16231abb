package io.teller.registry.store;

import io.teller.common.config.ConfigException;
import io.teller.common.model.Change;
import io.teller.common.model.Instance;
import io.teller.common.model.Service;
import io.teller.common.model.Snapshot;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This registry node's own copy, on its disk, of the part of the registry's state that outlives the
 * cluster: the services, and the instances registered without a TTL by no cluster member (those
 * with a TTL, or tied to a member, register again by themselves). Every registry node keeps one, so
 * losing one node's disk loses nothing.
 *
 * <p>Two files in one directory: {@code snapshot}, the whole copy at one revision, replaced only
 * atomically (written to a temporary file, fsynced, renamed over the old one, directory fsynced);
 * and {@code log}, the changes since, appended as records framed with their length and CRC32
 * ({@link Frames}) and fsynced before {@link #append} returns. Reading stops at the first record
 * cut short or failing its checksum: what came before is the last good state. When the log passes
 * {@value #LOG_LIMIT_BYTES} bytes, and at every start, the copy is compacted into a new snapshot
 * and an empty log.
 *
 * <p>Why this and not a Hazelcast {@code MapStore}: a MapStore persists each entry from the member
 * that owns its partition, so every node would hold only a share of the state (not a copy), and a
 * write-through store runs inside the map operation, per entry, with no order across maps. The
 * registry already has one ordered stream of changes (the leader's revisions); appending that
 * stream to a log is the classic write-ahead-log-plus-checkpoint design, needs only the JDK, and
 * gives every node a complete copy. An embedded database (H2, RocksDB, MapDB) would add a
 * dependency for what two files do.
 *
 * <p>Changes are applied last-writer-wins per service or instance, by revision: applying one twice,
 * or an older one after a newer, changes nothing, so the leader (which appends before publishing)
 * and its own subscription to the published changes can both feed the copy.
 *
 * <p>The directory is locked while the copy is open: two registry nodes cannot share one. Methods
 * block on the disk: call them from a worker.
 */
public final class LocalCopy implements AutoCloseable {

  static final String SNAPSHOT = "snapshot";
  static final String LOG = "log";
  static final String LOCK = "lock";
  static final byte[] SNAPSHOT_MAGIC = "TLRSNAP1".getBytes(StandardCharsets.US_ASCII);
  static final byte[] LOG_MAGIC = "TLRLOG01".getBytes(StandardCharsets.US_ASCII);
  static final long LOG_LIMIT_BYTES = 8L << 20;
  private static final int FORMAT = 1;
  private static final Logger LOG_LINE = LoggerFactory.getLogger("teller.registry");

  /** A service's or instance's last known state; {@code data} null once removed. */
  private record Entry(long revision, JsonObject data) {}

  private final Path dir;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final Map<String, Entry> services = new HashMap<>();
  private final Map<String, Entry> instances = new HashMap<>();

  /** Changes at or below this revision are in the snapshot already. */
  private long base;

  /** The highest revision seen, kept or not: the cluster's counter never restarts below it. */
  private long revision;

  /** The cluster run whose changes this copy follows; 0 if none yet. */
  private long incarnation;

  private volatile long durableRevision;
  private FileChannel log;
  private long logBytes;
  private boolean needsSnapshot;

  private LocalCopy(Path dir, FileChannel lockChannel, FileLock lock) {
    this.dir = dir;
    this.lockChannel = lockChannel;
    this.lock = lock;
  }

  /**
   * Opens (or creates) the copy in {@code dir} and compacts it. A log that ends in a damaged record
   * is read up to it; one line says what was skipped, and the damaged file is kept beside.
   *
   * @throws ConfigException when the directory is another node's, the snapshot is damaged, or the
   *     files cannot be written: one line naming the file, for the user
   */
  public static LocalCopy open(Path dir) {
    LocalCopy copy;
    try {
      Files.createDirectories(dir);
      FileChannel lockChannel =
          FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = lockChannel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        lockChannel.close();
        throw new ConfigException(
            "state directory "
                + dir
                + " is in use by another registry node;"
                + " give each registry node its own TELLER_DATA_DIR");
      }
      copy = new LocalCopy(dir, lockChannel, lock);
    } catch (IOException e) {
      throw new ConfigException("cannot use state directory " + dir + ": " + describe(e));
    }
    try {
      copy.load();
      copy.compact();
      return copy;
    } catch (ConfigException e) {
      copy.close();
      throw e;
    } catch (IOException e) {
      copy.close();
      throw new ConfigException("cannot write the registry's state in " + dir + ": " + describe(e));
    }
  }

  /** Whether an instance outlives the cluster: registered without a TTL, and by no member. */
  public static boolean kept(Instance instance) {
    return instance.ttlSeconds() == null && instance.member() == null;
  }

  private static boolean kept(JsonObject instance) {
    return instance.getValue("ttlSeconds") == null && instance.getValue("member") == null;
  }

  public Path dir() {
    return dir;
  }

  /** The cluster run this copy last followed (0: none). */
  public synchronized long incarnation() {
    return incarnation;
  }

  /** The highest revision whose changes are on disk. */
  public long durableRevision() {
    return durableRevision;
  }

  /** What the copy holds, at its highest revision. */
  public synchronized Snapshot contents() {
    return new Snapshot(
        revision,
        live(services).stream().map(Service::fromStored).toList(),
        live(instances).stream().map(Instance::fromJson).toList());
  }

  /**
   * Applies {@code changes} and has them on disk (fsynced) when it returns. Changes already known
   * are skipped; with nothing new, nothing is written.
   */
  public synchronized void append(List<Change> changes) throws IOException {
    List<ByteBuffer> records = new ArrayList<>();
    for (Change change : changes) {
      Change effective = apply(change);
      if (effective != null) {
        records.add(Frames.frame(effective.toJson().encode().getBytes(StandardCharsets.UTF_8)));
      }
    }
    if (records.isEmpty()) {
      return;
    }
    try {
      if (needsSnapshot || logBytes > LOG_LIMIT_BYTES) {
        compact(); // holds what was just applied
        return;
      }
      ByteBuffer[] buffers = records.toArray(ByteBuffer[]::new);
      long total = Arrays.stream(buffers).mapToLong(ByteBuffer::remaining).sum();
      long written = 0;
      while (written < total) {
        written += log.write(buffers);
      }
      log.force(false);
      logBytes += total;
      durableRevision = revision;
    } catch (IOException e) {
      // The log may now end in a partial record: start over from a snapshot next time.
      needsSnapshot = true;
      throw e;
    }
  }

  /**
   * Makes this copy the same as the cluster's {@code state} (read while changes may have gone on:
   * its revision was read before its entries), of cluster run {@code incarnation}, and compacts.
   */
  public synchronized void reconcile(Snapshot state, long incarnation) throws IOException {
    Set<String> serviceNames = new java.util.HashSet<>();
    for (Service service : state.services()) {
      serviceNames.add(service.name());
      merge(services, service.name(), service.revision(), service.toJson());
    }
    Set<String> instanceIds = new java.util.HashSet<>();
    for (Instance instance : state.instances()) {
      instanceIds.add(instance.id());
      merge(
          instances, instance.id(), instance.revision(), kept(instance) ? instance.toJson() : null);
    }
    // Absent from the cluster and no newer than its state: removed there.
    services
        .entrySet()
        .removeIf(
            e -> !serviceNames.contains(e.getKey()) && e.getValue().revision() <= state.revision());
    instances
        .entrySet()
        .removeIf(
            e -> !instanceIds.contains(e.getKey()) && e.getValue().revision() <= state.revision());
    revision = Math.max(revision, state.revision());
    this.incarnation = incarnation;
    compactAt(state.revision());
  }

  @Override
  public synchronized void close() {
    try {
      if (log != null) {
        log.close();
      }
    } catch (IOException e) {
      // Closing after fsync: nothing is lost.
    }
    try {
      lock.release();
      lockChannel.close();
    } catch (IOException e) {
      // The lock goes with the process anyway.
    }
  }

  // ---- applying ----

  /** Applies a change to the entries; returns what to record, or null if it changes nothing. */
  private Change apply(Change change) {
    if (change.revision() <= base) {
      return null;
    }
    boolean newer = change.revision() > revision;
    revision = Math.max(revision, change.revision());
    Change effective = change;
    Map<String, Entry> entries;
    String key;
    if (Change.SERVICE.equals(change.kind())) {
      entries = services;
      key = change.service();
    } else {
      entries = instances;
      key = change.id();
      if (!change.removed() && !kept(change.data())) {
        // A TTL or member-bound instance is not kept: recorded as gone (it may replace a kept one).
        effective =
            new Change(change.revision(), change.kind(), true, change.service(), change.id(), null);
      }
    }
    boolean applied =
        merge(entries, key, effective.revision(), effective.removed() ? null : effective.data());
    // A change that moves nothing still raises the revision on disk, so the counter never goes
    // back.
    return applied || newer ? effective : null;
  }

  private static boolean merge(
      Map<String, Entry> entries, String key, long revision, JsonObject data) {
    Entry current = entries.get(key);
    if (current != null && current.revision() >= revision) {
      return false;
    }
    entries.put(key, new Entry(revision, data));
    return true;
  }

  private static List<JsonObject> live(Map<String, Entry> entries) {
    List<Map.Entry<String, Entry>> list = new ArrayList<>(entries.entrySet());
    list.sort(Map.Entry.comparingByKey(Comparator.naturalOrder()));
    return list.stream().map(e -> e.getValue().data()).filter(d -> d != null).toList();
  }

  // ---- files ----

  private void load() throws IOException {
    Path snapshotFile = dir.resolve(SNAPSHOT);
    boolean snapshot = Files.exists(snapshotFile);
    if (snapshot) {
      readSnapshot(snapshotFile);
    }
    Path logFile = dir.resolve(LOG);
    if (Files.exists(logFile)) {
      readLog(logFile, snapshot);
    }
    durableRevision = revision;
  }

  private void readSnapshot(Path file) throws IOException {
    byte[] data = Files.readAllBytes(file);
    String fault = null;
    JsonObject json = null;
    if (!startsWith(data, SNAPSHOT_MAGIC)) {
      fault = "not a Teller state snapshot";
    } else {
      Frames.Read read = Frames.read(data, SNAPSHOT_MAGIC.length);
      if (read.damage() != null) {
        fault = read.damage() + " at byte " + read.end();
      } else if (read.records().size() != 1) {
        fault = read.records().size() + " records where one belongs";
      } else {
        try {
          json = new JsonObject(new String(read.records().get(0), StandardCharsets.UTF_8));
          if (json.getInteger("format", 0) != FORMAT) {
            fault = "format " + json.getValue("format") + ", this registry reads " + FORMAT;
          }
        } catch (DecodeException | ClassCastException e) {
          fault = "unreadable content";
        }
      }
    }
    if (fault != null) {
      throw new ConfigException("damaged state file " + file + " (" + fault + "); " + moveAway());
    }
    try {
      incarnation = json.getLong("incarnation", 0L);
      base = json.getLong("base", 0L);
      revision = json.getLong("revision", base);
      for (Object o : json.getJsonArray("services", new JsonArray())) {
        Service service = Service.fromStored((JsonObject) o);
        services.put(service.name(), new Entry(service.revision(), service.toJson()));
      }
      for (Object o : json.getJsonArray("instances", new JsonArray())) {
        Instance instance = Instance.fromJson((JsonObject) o);
        instances.put(instance.id(), new Entry(instance.revision(), instance.toJson()));
      }
    } catch (RuntimeException e) {
      throw new ConfigException(
          "damaged state file " + file + " (unreadable entry: " + describe(e) + "); " + moveAway());
    }
  }

  private void readLog(Path file, boolean snapshot) throws IOException {
    byte[] data = Files.readAllBytes(file);
    int intact;
    String damage;
    int applied = 0;
    if (!startsWith(data, LOG_MAGIC)) {
      intact = 0;
      damage = data.length < LOG_MAGIC.length ? "half-written header" : "not a Teller state log";
    } else {
      Frames.Read read = Frames.read(data, LOG_MAGIC.length);
      intact = read.end();
      damage = read.damage();
      int offset = LOG_MAGIC.length;
      for (byte[] record : read.records()) {
        Change change;
        try {
          JsonObject json = new JsonObject(new String(record, StandardCharsets.UTF_8));
          if (offset == LOG_MAGIC.length && json.containsKey("base")) {
            // The log's header: the revision of the snapshot it continues.
            long logBase = json.getLong("base");
            if (!snapshot && logBase > 0) {
              LOG_LINE.warn(
                  "state log {} continues a snapshot that is missing: only its changes after"
                      + " revision {} are restored",
                  file,
                  logBase);
            }
            offset += Frames.HEADER_BYTES + record.length;
            continue;
          }
          change = Change.fromJson(json);
        } catch (RuntimeException e) {
          intact = offset;
          damage = "unreadable record";
          break;
        }
        apply(change);
        applied++;
        offset += Frames.HEADER_BYTES + record.length;
      }
    }
    if (damage != null) {
      Path kept =
          file.resolveSibling(
              LOG
                  + ".damaged-"
                  + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                      .withZone(ZoneOffset.UTC)
                      .format(Instant.now()));
      Files.copy(file, kept, StandardCopyOption.REPLACE_EXISTING);
      LOG_LINE.warn(
          "state log {} is damaged at byte {} ({}): skipped its last {} bytes, kept the {} changes"
              + " before them (up to revision {}); the damaged file is kept as {}",
          file,
          intact,
          damage,
          data.length - intact,
          applied,
          revision,
          kept.getFileName());
    }
  }

  /** Writes everything into a new snapshot and starts an empty log. */
  private void compact() throws IOException {
    compactAt(revision);
  }

  private void compactAt(long newBase) throws IOException {
    JsonObject json =
        new JsonObject()
            .put("format", FORMAT)
            .put("incarnation", incarnation)
            .put("base", newBase)
            .put("revision", revision)
            .put("services", new JsonArray(new ArrayList<>(live(services))))
            .put("instances", new JsonArray(new ArrayList<>(live(instances))));
    replace(
        dir.resolve(SNAPSHOT),
        SNAPSHOT_MAGIC,
        Frames.frame(json.encode().getBytes(StandardCharsets.UTF_8)));
    // Entries removed before the snapshot need no memory of their removal any more.
    services.values().removeIf(e -> e.data() == null && e.revision() <= newBase);
    instances.values().removeIf(e -> e.data() == null && e.revision() <= newBase);
    base = newBase;
    if (log != null) {
      log.close();
      log = null;
    }
    ByteBuffer header =
        Frames.frame(
            new JsonObject().put("base", newBase).encode().getBytes(StandardCharsets.UTF_8));
    logBytes = LOG_MAGIC.length + header.remaining();
    replace(dir.resolve(LOG), LOG_MAGIC, header);
    log = FileChannel.open(dir.resolve(LOG), StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    needsSnapshot = false;
    durableRevision = revision;
  }

  /** Atomically replaces {@code file}: temporary file, fsync, rename, fsync of the directory. */
  private void replace(Path file, byte[] magic, ByteBuffer content) throws IOException {
    Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
    try (FileChannel out =
        FileChannel.open(
            temporary,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      ByteBuffer header = ByteBuffer.wrap(magic);
      while (header.hasRemaining() || content.hasRemaining()) {
        out.write(new ByteBuffer[] {header, content});
      }
      out.force(true);
    }
    Files.move(
        temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel directory = FileChannel.open(dir, StandardOpenOption.READ)) {
      directory.force(true);
    }
  }

  private String moveAway() {
    return "move "
        + dir
        + " away to start without it (a running registry node hands its copy over)";
  }

  private static boolean startsWith(byte[] data, byte[] magic) {
    return data.length >= magic.length
        && Arrays.equals(data, 0, magic.length, magic, 0, magic.length);
  }

  private static String describe(Exception e) {
    if (e instanceof NoSuchFileException n) {
      return "no such file " + n.getFile();
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
