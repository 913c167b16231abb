package io.teller.registry.store;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * Records framed for files that a crash may cut short: each record is its length (4 bytes, big
 * endian), the CRC32 of its payload (4 bytes) and the payload. Reading stops at the first record
 * that is cut short or whose checksum does not match, and says where and why: everything before it
 * is intact, nothing from it on can be trusted.
 */
final class Frames {

  /** Length and checksum in front of every payload. */
  static final int HEADER_BYTES = 8;

  /** Larger than any record Teller writes; a length above it is damage, not a record. */
  static final int MAX_PAYLOAD = 256 * 1024 * 1024;

  private Frames() {}

  /** One framed record, ready to write. */
  static ByteBuffer frame(byte[] payload) {
    ByteBuffer buffer = ByteBuffer.allocate(HEADER_BYTES + payload.length);
    buffer.putInt(payload.length).putInt(crc(payload)).put(payload).flip();
    return buffer;
  }

  /**
   * The records in {@code data} from {@code offset} on.
   *
   * @param records the intact records, in order
   * @param end the offset just past the last intact record
   * @param damage why reading stopped before the end of {@code data}, or null if it did not
   */
  record Read(List<byte[]> records, int end, String damage) {}

  static Read read(byte[] data, int offset) {
    List<byte[]> records = new ArrayList<>();
    int at = offset;
    while (at < data.length) {
      if (data.length - at < HEADER_BYTES) {
        return new Read(records, at, "half-written record");
      }
      ByteBuffer header = ByteBuffer.wrap(data, at, HEADER_BYTES);
      int length = header.getInt();
      int crc = header.getInt();
      if (length < 0 || length > MAX_PAYLOAD) {
        return new Read(records, at, "impossible record length " + length);
      }
      if (data.length - at - HEADER_BYTES < length) {
        return new Read(records, at, "half-written record");
      }
      byte[] payload = new byte[length];
      System.arraycopy(data, at + HEADER_BYTES, payload, 0, length);
      if (crc(payload) != crc) {
        return new Read(records, at, "bad checksum");
      }
      records.add(payload);
      at += HEADER_BYTES + length;
    }
    return new Read(records, at, null);
  }

  private static int crc(byte[] payload) {
    CRC32 crc = new CRC32();
    crc.update(payload);
    return (int) crc.getValue();
  }
}
