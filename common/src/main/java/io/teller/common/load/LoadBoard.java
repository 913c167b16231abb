package io.teller.common.load;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The latest in-flight counts that every other balancer reported, per instance: applied from {@link
 * LoadReport}s, dropped at once for a member that leaves the cluster. Updates come from one thread
 * (the event loop that receives the reports); reads ({@link #total}, {@link #byMember}) may come
 * from any thread, without locking, so the request path can add them to its own counts.
 */
public final class LoadBoard {

  private final Map<String, Map<String, Long>> byMember = new ConcurrentHashMap<>();
  private final Map<String, Long> sequences = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, AtomicLong> totals = new ConcurrentHashMap<>();
  private final java.util.function.Consumer<String> changed;

  /** A board nobody watches (a balancer's: its picks read it). */
  public LoadBoard() {
    this(instance -> {});
  }

  /**
   * @param changed told of each instance whose count by some member changed (on the updating
   *     thread): lets the registry's dashboard send only what changed
   */
  public LoadBoard(java.util.function.Consumer<String> changed) {
    this.changed = changed;
  }

  /** Applies a report; returns false if it was older than one already applied. */
  public boolean apply(LoadReport report) {
    Long last = sequences.get(report.member());
    if (last != null && report.sequence() <= last) {
      return false;
    }
    sequences.put(report.member(), report.sequence());
    Map<String, Long> mine =
        byMember.computeIfAbsent(report.member(), m -> new ConcurrentHashMap<>());
    if (report.full()) {
      // Whatever the report does not name is now 0.
      for (Map.Entry<String, Long> old : Map.copyOf(mine).entrySet()) {
        if (!report.counts().containsKey(old.getKey())) {
          set(mine, old.getKey(), 0);
        }
      }
    }
    report.counts().forEach((instance, count) -> set(mine, instance, Math.max(0, count)));
    return true;
  }

  /** Forgets everything a member reported (it left the cluster). */
  public void forget(String member) {
    Map<String, Long> mine = byMember.remove(member);
    sequences.remove(member);
    if (mine != null) {
      Map.copyOf(mine).keySet().forEach(instance -> set(mine, instance, 0));
    }
  }

  private void set(Map<String, Long> mine, String instance, long count) {
    long previous = mine.getOrDefault(instance, 0L);
    if (count == 0) {
      mine.remove(instance);
    } else {
      mine.put(instance, count);
    }
    if (count != previous) {
      totals.computeIfAbsent(instance, i -> new AtomicLong()).addAndGet(count - previous);
      changed.accept(instance);
    }
  }

  /** Whether no other balancer has reported anything (a lone balancer). */
  public boolean isEmpty() {
    return byMember.isEmpty();
  }

  /** The sum of every other balancer's latest count for {@code instance}. */
  public long total(String instance) {
    AtomicLong total = totals.get(instance);
    return total == null ? 0 : total.get();
  }

  /** Each member's latest count for {@code instance}, those above 0 only. */
  public Map<String, Long> byMember(String instance) {
    Map<String, Long> shares = new HashMap<>();
    byMember.forEach(
        (member, counts) -> {
          Long count = counts.get(instance);
          if (count != null && count > 0) {
            shares.put(member, count);
          }
        });
    return shares;
  }

  /** The sum of a member's latest counts over every instance. */
  public long memberTotal(String member) {
    Map<String, Long> counts = byMember.get(member);
    if (counts == null) {
      return 0;
    }
    long total = 0;
    for (long count : counts.values()) {
      total += count;
    }
    return total;
  }

  /** The members that reported something. */
  public java.util.Set<String> members() {
    return java.util.Set.copyOf(byMember.keySet());
  }
}
