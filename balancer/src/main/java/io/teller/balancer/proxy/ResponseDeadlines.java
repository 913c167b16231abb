package io.teller.balancer.proxy;

import io.teller.balancer.resilience.Failure;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The response timeout of one event loop's requests: requests sent to an instance that has not
 * answered yet, checked by one periodic timer per event loop ({@link #expire}) rather than one
 * timer per request, which cost a quarter of the throughput. A request past its deadline is
 * {@linkplain Exchange#cancel cancelled} with a timeout failure, so that its chain fails with it
 * like with any other failure. Event-loop confined.
 */
final class ResponseDeadlines {

  /**
   * Requests waiting, one set per response timeout in use, each in deadline order: with one timeout
   * per set, insertion order is deadline order.
   */
  private final List<Waiting> waiting = new ArrayList<>(2);

  /** Requests that share one response timeout. */
  static final class Waiting extends LinkedHashSet<Exchange> {
    private final int timeoutMillis;

    private Waiting(int timeoutMillis) {
      this.timeoutMillis = timeoutMillis;
    }
  }

  /** Starts {@code exchange}'s response timeout: its request has been sent whole. */
  void add(Exchange exchange) {
    exchange.deadlineNanos = System.nanoTime() + exchange.responseMillis * 1_000_000L;
    for (Waiting set : waiting) {
      if (set.timeoutMillis == exchange.responseMillis) {
        set.add(exchange);
        exchange.waiting = set;
        return;
      }
    }
    Waiting set = new Waiting(exchange.responseMillis);
    waiting.add(set);
    set.add(exchange);
    exchange.waiting = set;
  }

  /** Ends {@code exchange}'s response timeout: its instance answered, or failed. */
  void remove(Exchange exchange) {
    if (exchange.waiting != null) {
      exchange.waiting.remove(exchange);
      exchange.waiting = null;
    }
  }

  /** Cancels the requests whose instance has not answered in time; called periodically. */
  void expire() {
    long now = System.nanoTime();
    List<Exchange> late = null;
    for (Waiting set : waiting) {
      Iterator<Exchange> oldestFirst = set.iterator();
      while (oldestFirst.hasNext()) {
        Exchange exchange = oldestFirst.next();
        if (exchange.deadlineNanos > now) {
          break; // the rest are later
        }
        oldestFirst.remove();
        exchange.waiting = null;
        if (late == null) {
          late = new ArrayList<>();
        }
        late.add(exchange);
      }
    }
    if (late != null) {
      // Cancelled outside the loop: a cancellation runs the failed chain, which may add or remove.
      for (Exchange exchange : late) {
        exchange.cancel(
            Failure.timeout(exchange.service(), exchange.instanceId(), exchange.responseMillis));
      }
    }
  }
}
