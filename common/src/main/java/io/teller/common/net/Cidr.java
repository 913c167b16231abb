package io.teller.common.net;

import io.teller.common.config.ConfigException;
import io.teller.common.config.SettingType;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;

/**
 * An IPv4 or IPv6 address range in CIDR notation ({@code 10.0.0.0/8}, {@code fd00::/8}); an address
 * alone is a range of one. An IPv4 address is never in an IPv6 range nor the reverse, except that
 * IPv4-mapped IPv6 ({@code ::ffff:10.0.0.0/104}) is read as the IPv4 range it maps, as Java reads
 * such addresses.
 */
public final class Cidr {

  /**
   * A setting holding a list of ranges, comma-separated or a YAML list; empty is allowed. The value
   * is a {@code List<Cidr>}.
   */
  public static final SettingType LIST =
      new SettingType() {
        @Override
        public Object parse(io.teller.common.config.Setting setting, Object raw) {
          List<String> items = new ArrayList<>();
          if (raw instanceof Collection<?> c) {
            c.forEach(item -> items.add(String.valueOf(item).trim()));
          } else {
            Arrays.stream(String.valueOf(raw).split(",")).map(String::trim).forEach(items::add);
          }
          items.removeIf(String::isEmpty);
          List<Cidr> ranges = new ArrayList<>();
          for (String item : items) {
            try {
              ranges.add(Cidr.parse(item));
            } catch (IllegalArgumentException e) {
              throw ConfigException.badValue(setting, raw, "\"" + item + "\" " + e.getMessage());
            }
          }
          return List.copyOf(ranges);
        }

        @Override
        public String display(Object value) {
          return String.join(",", ((List<?>) value).stream().map(String::valueOf).toList());
        }
      };

  /** Four decimal numbers 0-255: anything else that Java takes for an address is looked up. */
  private static final Pattern DOTTED_QUAD =
      Pattern.compile(
          "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");

  private final byte[] network;
  private final int prefix;

  private Cidr(byte[] network, int prefix) {
    this.network = network;
    this.prefix = prefix;
  }

  /**
   * Reads {@code address[/prefix]}; the address must be a literal (no name is looked up).
   *
   * @throws IllegalArgumentException with what is wrong, to follow the value in a message
   */
  public static Cidr parse(String text) {
    int slash = text.indexOf('/');
    String literal = slash < 0 ? text : text.substring(0, slash);
    if (!literal.matches("[0-9A-Fa-f:.]+")
        || (!literal.contains(":") && !DOTTED_QUAD.matcher(literal).matches())) {
      throw new IllegalArgumentException("is not an IPv4 or IPv6 address or range");
    }
    InetAddress address;
    try {
      // A literal: parsed, never looked up.
      address = InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("is not an IPv4 or IPv6 address or range");
    }
    int bits = address.getAddress().length * 8;
    // ::ffff:a.b.c.d comes back as an IPv4 address: its prefix counts the 96 bits before it.
    int skipped = literal.contains(":") && address instanceof Inet4Address ? 96 : 0;
    int prefix = bits + skipped;
    if (slash >= 0) {
      String digits = text.substring(slash + 1);
      if (!digits.matches("\\d{1,3}")) {
        throw new IllegalArgumentException("has no prefix length after /");
      }
      prefix = Integer.parseInt(digits);
    }
    if (prefix < skipped || prefix > bits + skipped) {
      throw new IllegalArgumentException(
          "has a prefix length outside " + skipped + "-" + (bits + skipped));
    }
    prefix -= skipped;
    byte[] network = address.getAddress();
    for (int i = 0; i < network.length; i++) {
      int kept = Math.max(0, Math.min(8, prefix - i * 8));
      network[i] &= (byte) (0xff << (8 - kept));
    }
    return new Cidr(network, prefix);
  }

  /** Whether {@code address} is in this range. */
  public boolean contains(InetAddress address) {
    byte[] bytes = address.getAddress();
    if (bytes.length != network.length) {
      return false;
    }
    for (int i = 0; i < bytes.length; i++) {
      int kept = Math.max(0, Math.min(8, prefix - i * 8));
      int mask = (0xff << (8 - kept)) & 0xff;
      if ((bytes[i] & mask) != (network[i] & 0xff)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Cidr c && c.prefix == prefix && Arrays.equals(c.network, network);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(network) * 31 + prefix;
  }

  /** As it would be written in a setting. */
  @Override
  public String toString() {
    try {
      return InetAddress.getByAddress(network).getHostAddress() + "/" + prefix;
    } catch (UnknownHostException e) {
      throw new IllegalStateException("4 or 16 bytes always make an address", e);
    }
  }
}
