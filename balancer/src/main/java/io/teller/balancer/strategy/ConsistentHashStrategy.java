package io.teller.balancer.strategy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * {@code consistent-hash}: the same key goes to the same endpoint, and a change of endpoints moves
 * as few keys as possible.
 *
 * <p>The algorithm: a hash ring. Each endpoint owns {@value #POINTS_PER_WEIGHT} points per unit of
 * weight, at the 64-bit {@link Murmur3} hashes of {@code "<id>#0"}, {@code "<id>#1"}, ...; a
 * request's key is hashed the same way and goes to the owner of the first point at or after its
 * hash, wrapping around. The key is what {@link StrategyOptions#hashOn()} says: the client address,
 * a header or a cookie; when the header or cookie is missing, the client address.
 *
 * <p>Guarantees: a key's endpoint depends only on the key and on the set of endpoint ids and
 * weights, not on snapshot order nor on the picker instance, so every balancer agrees. Removing one
 * endpoint moves only the keys it owned, each to the endpoint it would go to without it; adding one
 * moves only keys to it; changing one weight moves keys only to or from that endpoint (its points
 * are a prefix of the sequence above). Each endpoint's share of keys is proportional to its weight,
 * within a few percent. An excluded endpoint (a retry) is skipped by walking on along the ring,
 * which gives the endpoint the key would have if the excluded ones were gone. A pick is one hash of
 * the key and one binary search; the picker is immutable.
 *
 * <p>The ring holds at most {@value #MAX_POINTS} points. Beyond, every endpoint's points are scaled
 * down in proportion (at least one each); a change of one endpoint then also rescales the others,
 * so somewhat more keys move than the minimum above.
 *
 * <p>Slow start: an endpoint being eased in has all its points on the ring from the start, but a
 * key that lands on one of them is admitted only if the key's admission draw, a second hash of the
 * key uniform in [0, 1), is below the endpoint's current factor (from the {@link Ramp}'s step);
 * otherwise the key walks on along the ring as if that endpoint were not there. So at factor {@code
 * f} the endpoint gets about {@code f} of the keys it will own; a key moves to it once, when the
 * factor passes the key's draw, and never back while the ramp goes on; and keys never move between
 * the endpoints that were there already, since a key refused by the newcomer goes where it went
 * before the newcomer came. A key refused by every endpoint it may go to (all of them ramping) goes
 * to the first of them.
 */
public final class ConsistentHashStrategy implements Strategy {

  /** This strategy's name in configuration. */
  public static final String NAME = "consistent-hash";

  /**
   * Points per unit of weight. An endpoint's share of the ring is off its due by about 2.5% (one
   * standard deviation, measured over random ids) with 1000 points; with 100, by 8%, and half of
   * all sets of three ids then leave some endpoint more than 10% off.
   */
  static final int POINTS_PER_WEIGHT = 1000;

  /**
   * The most points on one ring: 8 bytes each, hashed and sorted once per snapshot (about 8 ms for
   * the full ring on a laptop core, once warm).
   */
  static final int MAX_POINTS = 100_000;

  private enum KeySource {
    CLIENT_ADDRESS,
    HEADER,
    COOKIE
  }

  private final KeySource source;
  private final String keyName;
  private final Ramp ramp;

  /**
   * @param options says what to hash
   */
  public ConsistentHashStrategy(StrategyOptions options) {
    this(options, Ramp.OFF);
  }

  /**
   * @param options says what to hash
   * @param ramp the service's slow start
   */
  public ConsistentHashStrategy(StrategyOptions options, Ramp ramp) {
    this.ramp = Objects.requireNonNull(ramp, "ramp");
    String hashOn = Objects.requireNonNull(options, "options").hashOn();
    if (hashOn.startsWith(StrategyOptions.HEADER_PREFIX)) {
      source = KeySource.HEADER;
      keyName = hashOn.substring(StrategyOptions.HEADER_PREFIX.length());
    } else if (hashOn.startsWith(StrategyOptions.COOKIE_PREFIX)) {
      source = KeySource.COOKIE;
      keyName = hashOn.substring(StrategyOptions.COOKIE_PREFIX.length());
    } else {
      source = KeySource.CLIENT_ADDRESS;
      keyName = null;
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Picker picker(List<Endpoint> endpoints, LoadCounts counts) {
    return new RingPicker(endpoints, this, ramp);
  }

  /** A key's admission draw, uniform in [0, 2^53) and independent of its place on the ring. */
  static long admissionDraw(long keyHash) {
    return Murmur3.fmix64(keyHash ^ 0x9e3779b97f4a7c15L) >>> 11;
  }

  /**
   * The admission threshold of each endpoint at these factors: a key whose draw is below it is
   * admitted; the last element is the largest. Null when every factor is 1 (nothing to refuse).
   */
  static long[] thresholds(int[] thousandths) {
    long[] thresholds = new long[thousandths.length + 1];
    boolean full = true;
    long largest = 0;
    for (int i = 0; i < thousandths.length; i++) {
      full &= thousandths[i] >= Ramp.FULL;
      thresholds[i] = thousandths[i] * (1L << 53) / Ramp.FULL;
      largest = Math.max(largest, thresholds[i]);
    }
    thresholds[thousandths.length] = largest;
    return full ? null : thresholds;
  }

  /** The key of this request: the header or cookie when present, else the client address. */
  String key(PickContext context) {
    String key =
        switch (source) {
          case HEADER -> context.header(keyName);
          case COOKIE -> context.cookie(keyName);
          case CLIENT_ADDRESS -> null;
        };
    if (key == null) {
      key = context.clientAddress();
    }
    return key == null ? "" : key;
  }

  /** How many points each endpoint gets on a ring of these endpoints. */
  static long[] pointCounts(List<Endpoint> endpoints) {
    long totalWeight = 0;
    for (Endpoint endpoint : endpoints) {
      totalWeight += endpoint.weight();
    }
    boolean scaled = totalWeight * POINTS_PER_WEIGHT > MAX_POINTS;
    long[] counts = new long[endpoints.size()];
    for (int i = 0; i < counts.length; i++) {
      long weight = endpoints.get(i).weight();
      counts[i] =
          scaled ? Math.max(1, weight * MAX_POINTS / totalWeight) : weight * POINTS_PER_WEIGHT;
    }
    return counts;
  }

  private static final class RingPicker extends SnapshotPicker {

    /** The low bits of a ring point that hold its owner's rank instead of hash bits. */
    private static final int OWNER_BITS = 20;

    private static final long OWNER_MASK = (1L << OWNER_BITS) - 1;

    private final ConsistentHashStrategy strategy;

    /** The endpoints ordered by id: a point's owner is its rank here, whatever snapshot order. */
    private final Endpoint[] ranked;

    /**
     * The ring, ascending in signed order: each point is a 64-bit hash whose low {@value
     * #OWNER_BITS} bits are replaced by its owner's rank, so one primitive sort orders the ring and
     * a point names its owner (positions move by less than 2^-44 of the ring).
     */
    private final long[] points;

    /** The admission thresholds of the ramp's steps, by rank; null without a ramp. */
    private final Ramp.Steps<long[]> admission;

    RingPicker(List<Endpoint> snapshot, ConsistentHashStrategy strategy, Ramp ramp) {
      super(snapshot);
      this.strategy = strategy;
      if (endpoints.length > OWNER_MASK + 1) {
        throw new IllegalArgumentException(
            "consistent-hash takes at most " + (OWNER_MASK + 1) + " endpoints");
      }
      ranked = endpoints.clone();
      Arrays.sort(ranked, Comparator.comparing(Endpoint::id));
      long[] counts = pointCounts(Arrays.asList(ranked));
      int total = 0;
      for (long count : counts) {
        total += (int) count;
      }
      points = new long[total];
      int next = 0;
      for (int rank = 0; rank < ranked.length; rank++) {
        byte[] prefix = (ranked[rank].id() + "#").getBytes(StandardCharsets.UTF_8);
        byte[] name = Arrays.copyOf(prefix, prefix.length + 10);
        for (int i = 0; i < counts[rank]; i++) {
          int length = prefix.length + writeDecimal(i, name, prefix.length);
          points[next++] = (Murmur3.hash64(name, length) & ~OWNER_MASK) | rank;
        }
      }
      Arrays.sort(points);
      admission =
          ramp.rampsAny(snapshot) ? ramp.steps(ranked, ConsistentHashStrategy::thresholds) : null;
    }

    @Override
    Endpoint choose(PickContext context, Set<String> excluded) {
      long hash = Murmur3.hash64(strategy.key(context));
      int index = ceiling(hash);
      long[] thresholds = admission == null ? null : admission.current();
      if (thresholds != null) {
        return admitted(index, admissionDraw(hash), thresholds, excluded);
      }
      Endpoint endpoint = owner(index);
      if (excluded.isEmpty() || !excluded.contains(endpoint.id())) {
        return endpoint;
      }
      if (allExcluded(excluded)) {
        return null;
      }
      // Some endpoint is not excluded and every endpoint has a point: this ends.
      for (int i = index + 1; ; i++) {
        endpoint = owner(i % points.length);
        if (!excluded.contains(endpoint.id())) {
          return endpoint;
        }
      }
    }

    /**
     * Walks the ring from {@code index} to the first endpoint that is not excluded and admits the
     * draw; when none does, the first that is not excluded.
     */
    private Endpoint admitted(int index, long draw, long[] thresholds, Set<String> excluded) {
      // Above every threshold: no ramping endpoint admits it, only those at full weight.
      boolean refusedByAll = draw >= thresholds[ranked.length];
      Endpoint first = null;
      for (int i = 0; i < points.length; i++) {
        int rank = (int) (points[(index + i) % points.length] & OWNER_MASK);
        Endpoint endpoint = ranked[rank];
        if (!excluded.isEmpty() && excluded.contains(endpoint.id())) {
          continue;
        }
        if (draw < thresholds[rank]) {
          return endpoint;
        }
        if (first == null) {
          first = endpoint;
          if (refusedByAll) {
            return first;
          }
        }
      }
      return first;
    }

    private Endpoint owner(int index) {
      return ranked[(int) (points[index] & OWNER_MASK)];
    }

    /** The index of the first point at or after {@code hash}, wrapping around to 0. */
    private int ceiling(long hash) {
      int low = 0;
      int high = points.length;
      while (low < high) {
        int mid = (low + high) >>> 1;
        if (points[mid] < hash) {
          low = mid + 1;
        } else {
          high = mid;
        }
      }
      return low == points.length ? 0 : low;
    }

    /** Writes {@code value} (not negative) in decimal at {@code offset}; returns its length. */
    private static int writeDecimal(int value, byte[] target, int offset) {
      int length = 1;
      for (int rest = value / 10; rest > 0; rest /= 10) {
        length++;
      }
      for (int i = offset + length - 1; i >= offset; i--) {
        target[i] = (byte) ('0' + value % 10);
        value /= 10;
      }
      return length;
    }
  }
}
