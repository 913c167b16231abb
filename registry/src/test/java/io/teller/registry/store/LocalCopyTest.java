package io.teller.registry.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.teller.common.config.ConfigException;
import io.teller.common.model.Change;
import io.teller.common.model.Instance;
import io.teller.common.model.InstanceStatus;
import io.teller.common.model.Service;
import io.teller.common.model.Snapshot;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The on-disk copy: its framing, what it keeps, and what it does with damaged files. */
class LocalCopyTest {

  @TempDir Path dir;

  static Service service(String name, long revision) {
    return Service.withDefaults(name).withRevision(revision);
  }

  static Instance instance(String service, int port, Integer ttl, long revision) {
    return Instance.registered(
            service,
            new Instance.Registration("10.0.0.1", port, 1, Map.of(), ttl),
            InstanceStatus.HEALTHY,
            Instance.SOURCE_REST,
            null,
            Instant.parse("2025-01-01T00:00:00Z"))
        .withRevision(revision);
  }

  static List<String> names(Snapshot s) {
    return s.services().stream().map(Service::name).toList();
  }

  static List<Integer> ports(Snapshot s) {
    return s.instances().stream().map(Instance::port).toList();
  }

  @Test
  void keepsServicesAndInstancesWithoutTtlAcrossReopening() throws Exception {
    try (LocalCopy copy = LocalCopy.open(dir)) {
      copy.append(
          List.of(
              Change.serviceStored(service("shop", 1)),
              Change.instanceStored(instance("shop", 1, null, 2))));
      copy.append(List.of(Change.instanceStored(instance("shop", 2, 10, 3))));
      copy.append(
          List.of(Change.serviceStored(service("gone", 4)), Change.serviceRemoved("gone", 5)));
      assertThat(copy.durableRevision()).isEqualTo(5);
    }
    try (LocalCopy copy = LocalCopy.open(dir)) {
      Snapshot s = copy.contents();
      assertThat(names(s)).containsExactly("shop");
      assertThat(ports(s)).containsExactly(1); // the TTL instance is not kept
      assertThat(s.revision()).isEqualTo(5);
      // Compacted at open: everything is in the snapshot, the log is empty.
      long headerOnly = Files.size(dir.resolve(LocalCopy.LOG));
      copy.append(List.of(Change.serviceStored(service("shop", 1))));
      assertThat(Files.size(dir.resolve(LocalCopy.LOG))).isEqualTo(headerOnly);
    }
  }

  @Test
  void aChangeToATtlRevisionIsStillOnDiskSoTheCounterNeverGoesBack() throws Exception {
    try (LocalCopy copy = LocalCopy.open(dir)) {
      copy.append(List.of(Change.instanceStored(instance("shop", 2, 10, 7))));
    }
    try (LocalCopy copy = LocalCopy.open(dir)) {
      assertThat(copy.contents().revision()).isEqualTo(7);
      assertThat(copy.contents().instances()).isEmpty();
    }
  }

  @Test
  void aTtlRegistrationReplacesAKeptInstanceAtTheSameAddress() throws Exception {
    try (LocalCopy copy = LocalCopy.open(dir)) {
      copy.append(List.of(Change.instanceStored(instance("shop", 1, null, 1))));
      copy.append(List.of(Change.instanceStored(instance("shop", 1, 30, 2))));
      assertThat(copy.contents().instances()).isEmpty();
    }
  }

  @Test
  void olderOrRepeatedChangesChangeNothingAndWriteNothing() throws Exception {
    try (LocalCopy copy = LocalCopy.open(dir)) {
      copy.append(List.of(Change.serviceStored(service("shop", 5).withRevision(5))));
      long size = Files.size(dir.resolve(LocalCopy.LOG));
      copy.append(List.of(Change.serviceStored(service("shop", 5))));
      copy.append(List.of(Change.serviceRemoved("shop", 4)));
      assertThat(Files.size(dir.resolve(LocalCopy.LOG))).isEqualTo(size);
      assertThat(names(copy.contents())).containsExactly("shop");
    }
  }

  @Test
  void aTornFinalRecordIsSkippedAndWhatCameBeforeIsKept() throws Exception {
    try (LocalCopy copy = LocalCopy.open(dir)) {
      for (int i = 1; i <= 3; i++) {
        copy.append(List.of(Change.serviceStored(service("svc-" + i, i))));
      }
    }
    Path log = dir.resolve(LocalCopy.LOG);
    long size = Files.size(log);
    try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "rw")) {
      file.setLength(size - 5); // cut in the middle of the last record
    }
    try (LocalCopy copy = LocalCopy.open(dir)) {
      assertThat(names(copy.contents())).containsExactly("svc-1", "svc-2");
      assertThat(copy.contents().revision()).isEqualTo(2);
    }
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .anyMatch(n -> n.startsWith("log.damaged-"));
    }
    // The damage is gone: the next start reads a clean copy.
    try (LocalCopy copy = LocalCopy.open(dir)) {
      assertThat(names(copy.contents())).containsExactly("svc-1", "svc-2");
    }
  }

  @Test
  void aBadChecksumStopsReadingThere() throws Exception {
    try (LocalCopy copy = LocalCopy.open(dir)) {
      for (int i = 1; i <= 3; i++) {
        copy.append(List.of(Change.serviceStored(service("svc-" + i, i))));
      }
    }
    Path log = dir.resolve(LocalCopy.LOG);
    byte[] data = Files.readAllBytes(log);
    // Flip one byte inside the second record's payload.
    int at = LocalCopy.LOG_MAGIC.length;
    for (int record = 0; record < 2; record++) { // past the header record and the first change
      at += Frames.HEADER_BYTES + ByteBuffer.wrap(data, at, 4).getInt();
    }
    int second = at;
    data[second + Frames.HEADER_BYTES + 3] ^= 0x20;
    Files.write(log, data);
    try (LocalCopy copy = LocalCopy.open(dir)) {
      assertThat(names(copy.contents())).containsExactly("svc-1");
    }
  }

  @Test
  void framesReportWhereAndWhyTheyStop() {
    byte[] one = "one".getBytes(StandardCharsets.UTF_8);
    ByteBuffer a = Frames.frame(one);
    ByteBuffer b = Frames.frame("two".getBytes(StandardCharsets.UTF_8));
    byte[] data = new byte[a.remaining() + b.remaining()];
    a.get(data, 0, a.remaining());
    b.get(data, data.length - b.remaining(), b.remaining());

    Frames.Read clean = Frames.read(data, 0);
    assertThat(clean.damage()).isNull();
    assertThat(clean.records()).hasSize(2);

    Frames.Read torn = Frames.read(java.util.Arrays.copyOf(data, data.length - 1), 0);
    assertThat(torn.damage()).isEqualTo("half-written record");
    assertThat(torn.end()).isEqualTo(Frames.HEADER_BYTES + one.length);
    assertThat(torn.records()).hasSize(1);

    Frames.Read headerCut =
        Frames.read(java.util.Arrays.copyOf(data, Frames.HEADER_BYTES + one.length + 3), 0);
    assertThat(headerCut.damage()).isEqualTo("half-written record");
    assertThat(headerCut.records()).hasSize(1);

    data[Frames.HEADER_BYTES] ^= 1;
    Frames.Read bad = Frames.read(data, 0);
    assertThat(bad.damage()).isEqualTo("bad checksum");
    assertThat(bad.end()).isZero();
    assertThat(bad.records()).isEmpty();
  }

  @Test
  void aDamagedSnapshotRefusesToStartNamingTheFile() throws Exception {
    try (LocalCopy copy = LocalCopy.open(dir)) {
      copy.append(List.of(Change.serviceStored(service("shop", 1))));
    }
    Path snapshot = dir.resolve(LocalCopy.SNAPSHOT);
    byte[] data = Files.readAllBytes(snapshot);
    data[data.length - 2] ^= 0x01;
    Files.write(snapshot, data);
    assertThatThrownBy(() -> LocalCopy.open(dir))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("damaged state file " + snapshot + " (bad checksum at byte 8)")
        .hasMessageNotContaining("\n");
    // It let go of the directory; without the snapshot, the log's changes since it are what is
    // left.
    Files.delete(snapshot);
    try (LocalCopy copy = LocalCopy.open(dir)) {
      assertThat(names(copy.contents())).containsExactly("shop");
    }
  }

  @Test
  void aHalfWrittenSnapshotIsDamageToo() throws Exception {
    try (LocalCopy copy = LocalCopy.open(dir)) {
      copy.append(List.of(Change.serviceStored(service("shop", 1))));
    }
    Path snapshot = dir.resolve(LocalCopy.SNAPSHOT);
    try (RandomAccessFile file = new RandomAccessFile(snapshot.toFile(), "rw")) {
      file.setLength(file.length() / 2);
    }
    assertThatThrownBy(() -> LocalCopy.open(dir))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(snapshot + " (half-written record at byte 8)");
  }

  @Test
  void twoNodesCannotShareADirectory() throws IOException {
    try (LocalCopy copy = LocalCopy.open(dir)) {
      assertThatThrownBy(() -> LocalCopy.open(dir))
          .isInstanceOf(ConfigException.class)
          .hasMessage(
              "state directory "
                  + dir
                  + " is in use by another registry node;"
                  + " give each registry node its own TELLER_DATA_DIR");
    }
  }

  @Test
  void reconcilingTakesTheClusterStateAndKeepsWhatIsNewer() throws Exception {
    try (LocalCopy copy = LocalCopy.open(dir)) {
      copy.append(
          List.of(
              Change.serviceStored(service("old", 1)), Change.serviceStored(service("fresh", 12))));
      // The cluster, read at revision 10: "old" is gone, "shop" exists; "fresh" came after the
      // read.
      copy.reconcile(
          new Snapshot(10, List.of(service("shop", 3)), List.of(instance("shop", 1, null, 4))), 42);
      assertThat(names(copy.contents())).containsExactly("fresh", "shop");
      assertThat(copy.incarnation()).isEqualTo(42);
    }
    try (LocalCopy copy = LocalCopy.open(dir)) {
      assertThat(names(copy.contents())).containsExactly("fresh", "shop");
      assertThat(ports(copy.contents())).containsExactly(1);
      assertThat(copy.incarnation()).isEqualTo(42);
      assertThat(copy.contents().revision()).isEqualTo(12);
    }
  }
}
