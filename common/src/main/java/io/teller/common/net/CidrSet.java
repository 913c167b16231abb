package io.teller.common.net;

import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * A set of {@link Cidr} ranges, asked about address literals as a request carries them (a client's
 * address as text): the literal is parsed, never looked up, so asking is safe on an event loop; an
 * IPv4-mapped IPv6 address matches the IPv4 ranges.
 */
public final class CidrSet {

  private static final CidrSet EMPTY = new CidrSet(List.of());

  private final List<Cidr> ranges;

  private CidrSet(List<Cidr> ranges) {
    this.ranges = ranges;
  }

  /** The set with no address in it. */
  public static CidrSet empty() {
    return EMPTY;
  }

  /** The set of these ranges (a {@link Cidr#LIST} setting's value). */
  public static CidrSet of(List<Cidr> ranges) {
    return ranges.isEmpty() ? EMPTY : new CidrSet(List.copyOf(ranges));
  }

  /**
   * Parses ranges, e.g. {@code ["10.0.0.0/8", "::1"]}; blank entries are skipped.
   *
   * @throws IllegalArgumentException naming the first entry that is not a range
   */
  public static CidrSet parse(List<String> entries) {
    List<Cidr> ranges = new ArrayList<>();
    for (String raw : entries) {
      String entry = raw.strip();
      if (entry.isEmpty()) {
        continue;
      }
      try {
        ranges.add(Cidr.parse(entry));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("'" + entry + "' " + e.getMessage(), e);
      }
    }
    return of(ranges);
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
    InetAddress parsed;
    try {
      parsed = InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      return false;
    }
    for (Cidr range : ranges) {
      if (range.contains(parsed)) {
        return true;
      }
    }
    return false;
  }
}
