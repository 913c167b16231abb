package io.teller.balancer.strategy;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/** Resolves load-balancing strategies by their names in configuration. */
public final class Strategies {

  /** Every strategy name, in the order the documentation lists them. */
  public static final List<String> NAMES =
      List.of(
          RoundRobinStrategy.NAME,
          WeightedRoundRobinStrategy.NAME,
          LeastConnectionsStrategy.NAME,
          RandomTwoChoicesStrategy.NAME,
          ConsistentHashStrategy.NAME);

  private Strategies() {}

  /**
   * Returns the strategy with this name.
   *
   * @param name one of {@link #NAMES}, exactly
   * @param options the strategies' options
   * @param random the randomness of the strategies that use some; a picker may call it from several
   *     threads at once, so it must be thread-safe (tests may pass a seeded {@link
   *     java.util.Random}, or a {@link java.util.SplittableRandom} when they pick from one thread)
   * @throws IllegalArgumentException if no strategy has this name
   */
  public static Strategy byName(String name, StrategyOptions options, RandomGenerator random) {
    return byName(name, options, random, Ramp.OFF);
  }

  /**
   * Returns the strategy with this name, easing new endpoints in by {@code ramp}.
   *
   * @param name one of {@link #NAMES}, exactly
   * @param options the strategies' options
   * @param random the randomness of the strategies that use some, thread-safe (see {@link
   *     #byName(String, StrategyOptions, RandomGenerator)})
   * @param ramp the service's slow start, {@link Ramp#OFF} for none
   * @throws IllegalArgumentException if no strategy has this name
   */
  public static Strategy byName(
      String name, StrategyOptions options, RandomGenerator random, Ramp ramp) {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(random, "random");
    Objects.requireNonNull(ramp, "ramp");
    if (name == null) {
      throw unknown(null);
    }
    return switch (name) {
      case RoundRobinStrategy.NAME -> new RoundRobinStrategy(random, ramp);
      case WeightedRoundRobinStrategy.NAME -> new WeightedRoundRobinStrategy(ramp);
      case LeastConnectionsStrategy.NAME -> new LeastConnectionsStrategy(random, ramp);
      case RandomTwoChoicesStrategy.NAME -> new RandomTwoChoicesStrategy(random, ramp);
      case ConsistentHashStrategy.NAME -> new ConsistentHashStrategy(options, ramp);
      default -> throw unknown(name);
    };
  }

  /**
   * Returns the strategy with this name, drawing its randomness from {@link ThreadLocalRandom}
   * (each picking thread its own generator: no contention).
   *
   * @throws IllegalArgumentException if no strategy has this name
   */
  public static Strategy byName(String name, StrategyOptions options) {
    return byName(name, options, Ramp.OFF);
  }

  /**
   * Returns the strategy with this name, drawing its randomness from {@link ThreadLocalRandom} and
   * easing new endpoints in by {@code ramp}.
   *
   * @throws IllegalArgumentException if no strategy has this name
   */
  public static Strategy byName(String name, StrategyOptions options, Ramp ramp) {
    return byName(name, options, ThreadLocalRandomGenerator.INSTANCE, ramp);
  }

  private static IllegalArgumentException unknown(String name) {
    return new IllegalArgumentException(
        "unknown load-balancing strategy "
            + (name == null ? "null" : "'" + name + "'")
            + "; expected one of: "
            + String.join(", ", NAMES));
  }

  /**
   * Draws from the calling thread's {@link ThreadLocalRandom}; {@code ThreadLocalRandom.current()}
   * itself must not be shared between threads, so this looks it up on every call.
   */
  private enum ThreadLocalRandomGenerator implements RandomGenerator {
    INSTANCE;

    @Override
    public long nextLong() {
      return ThreadLocalRandom.current().nextLong();
    }

    @Override
    public int nextInt() {
      return ThreadLocalRandom.current().nextInt();
    }

    @Override
    public int nextInt(int bound) {
      return ThreadLocalRandom.current().nextInt(bound);
    }
  }
}
