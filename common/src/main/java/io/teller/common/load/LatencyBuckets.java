package io.teller.common.load;

/**
 * The latency histogram that balancers record per instance and the registry merges across
 * balancers: log-linear buckets, four per doubling, from 64 µs to about 4.5 minutes. Every bucket
 * is at most a quarter of its lower bound wide, so a percentile read from it (interpolated within
 * its bucket) is off by less than 25%, and usually by a few percent. Histograms add up bucket by
 * bucket, which a percentile does not: that is why the balancers send buckets and the registry
 * computes p50 and p99 from their sum.
 */
public final class LatencyBuckets {

  /** Buckets per doubling. */
  private static final int SUB_BITS = 2;

  private static final int SUB = 1 << SUB_BITS;

  /** The first bucket holds everything below 2^6 µs = 64 µs (and up to 80 µs). */
  private static final int MIN_OCTAVE = 6;

  private static final int OCTAVES = 22;

  /** How many buckets there are; indexes run from 0 to {@code COUNT - 1}. */
  public static final int COUNT = OCTAVES * SUB;

  private LatencyBuckets() {}

  /** The bucket of a latency in microseconds. */
  public static int index(long micros) {
    if (micros < (1L << MIN_OCTAVE)) {
      return 0;
    }
    int octave = 63 - Long.numberOfLeadingZeros(micros);
    if (octave >= MIN_OCTAVE + OCTAVES) {
      return COUNT - 1;
    }
    int sub = (int) (micros >>> (octave - SUB_BITS)) & (SUB - 1);
    return (octave - MIN_OCTAVE) * SUB + sub;
  }

  /** The smallest latency (µs) in bucket {@code index}; 0 for the first. */
  public static long lowerMicros(int index) {
    if (index == 0) {
      return 0;
    }
    int octave = index / SUB + MIN_OCTAVE;
    int sub = index % SUB;
    return (1L << octave) + ((long) sub << (octave - SUB_BITS));
  }

  /** The first latency (µs) above bucket {@code index}. */
  public static long upperMicros(int index) {
    int octave = index / SUB + MIN_OCTAVE;
    int sub = index % SUB;
    return (1L << octave) + ((long) (sub + 1) << (octave - SUB_BITS));
  }

  /**
   * The {@code q}-quantile (0 to 1) of a histogram, in milliseconds, interpolated within its
   * bucket; NaN when the histogram is empty.
   *
   * @param counts one count per bucket ({@link #COUNT} of them)
   */
  public static double quantileMillis(long[] counts, double q) {
    long total = 0;
    for (long c : counts) {
      total += c;
    }
    if (total == 0) {
      return Double.NaN;
    }
    double rank = q * total;
    long seen = 0;
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] == 0) {
        continue;
      }
      if (seen + counts[i] >= rank) {
        double within = (rank - seen) / counts[i];
        double lower = lowerMicros(i);
        return (lower + within * (upperMicros(i) - lower)) / 1000.0;
      }
      seen += counts[i];
    }
    return upperMicros(counts.length - 1) / 1000.0;
  }
}
