package io.teller.common.net;

import io.netty.util.NetUtil;
import java.util.ArrayList;
import java.util.List;

/**
 * A set of IPv4 and IPv6 address ranges in CIDR notation ({@code 10.0.0.0/8}, {@code fd00::/8}; a
 * bare address is a range of one). Matching parses address literals only and never looks a name up,
 * so it is safe on an event loop; an IPv4-mapped IPv6 address matches the IPv4 ranges.
 */
public final class CidrSet {

  private static final CidrSet EMPTY = new CidrSet(List.of());

  private record Range(byte[] network, int bits) {
    boolean contains(byte[] address) {
      if (address.length != network.length) {
        return false;
      }
      int full = bits / 8;
      for (int i = 0; i < full; i++) {
        if (address[i] != network[i]) {
          return false;
        }
      }
      int rest = bits % 8;
      if (rest == 0) {
        return true;
      }
      int mask = (0xff << (8 - rest)) & 0xff;
      return (address[full] & mask) == (network[full] & mask);
    }
  }

  private final List<Range> ranges;

  private CidrSet(List<Range> ranges) {
    this.ranges = ranges;
  }

  /** The set with no address in it. */
  public static CidrSet empty() {
    return EMPTY;
  }

  /**
   * Parses ranges, e.g. {@code ["10.0.0.0/8", "::1"]}.
   *
   * @throws IllegalArgumentException naming the first entry that is not a range
   */
  public static CidrSet parse(List<String> entries) {
    List<Range> ranges = new ArrayList<>();
    for (String raw : entries) {
      String entry = raw.strip();
      if (entry.isEmpty()) {
        continue;
      }
      int slash = entry.indexOf('/');
      String address = slash < 0 ? entry : entry.substring(0, slash);
      byte[] network = NetUtil.createByteArrayFromIpAddressString(address);
      if (network == null) {
        throw new IllegalArgumentException("'" + entry + "' is not an IP address or CIDR range");
      }
      int bits = network.length * 8;
      if (slash >= 0) {
        try {
          bits = Integer.parseInt(entry.substring(slash + 1));
        } catch (NumberFormatException e) {
          bits = -1;
        }
        if (bits < 0 || bits > network.length * 8) {
          throw new IllegalArgumentException(
              "'" + entry + "' has a prefix length outside 0-" + network.length * 8);
        }
      }
      ranges.add(new Range(network, bits));
    }
    return ranges.isEmpty() ? EMPTY : new CidrSet(List.copyOf(ranges));
  }

  public boolean isEmpty() {
    return ranges.isEmpty();
  }

  /** Whether {@code address}, an IP address literal, is in one of the ranges; false if not one. */
  public boolean contains(String address) {
    if (ranges.isEmpty() || address == null) {
      return false;
    }
    byte[] bytes = NetUtil.createByteArrayFromIpAddressString(address);
    if (bytes == null) {
      return false;
    }
    if (bytes.length == 16 && isIpv4Mapped(bytes)) {
      byte[] v4 = new byte[] {bytes[12], bytes[13], bytes[14], bytes[15]};
      if (matches(v4)) {
        return true;
      }
    }
    return matches(bytes);
  }

  private boolean matches(byte[] bytes) {
    for (Range range : ranges) {
      if (range.contains(bytes)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isIpv4Mapped(byte[] bytes) {
    for (int i = 0; i < 10; i++) {
      if (bytes[i] != 0) {
        return false;
      }
    }
    return bytes[10] == (byte) 0xff && bytes[11] == (byte) 0xff;
  }
}
