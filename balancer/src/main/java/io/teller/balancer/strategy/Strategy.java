package io.teller.balancer.strategy;

import java.util.List;

/**
 * A load-balancing strategy: configuration, with no state of its own. It builds a {@link Picker}
 * for each new snapshot of endpoints; state that must outlive a snapshot, such as in-flight counts,
 * is owned by the balancer and handed in.
 *
 * @see Strategies#byName(String, StrategyOptions)
 */
public interface Strategy {

  /** Returns this strategy's name in configuration, one of {@link Strategies#NAMES}. */
  String name();

  /**
   * Builds a picker for this snapshot.
   *
   * @param endpoints the endpoints that may take traffic now, with unique ids; copied
   * @param counts the in-flight counts, read by the strategies that balance on load
   * @throws IllegalArgumentException if two endpoints share an id
   */
  Picker picker(List<Endpoint> endpoints, LoadCounts counts);
}
