package io.teller.balancer.proxy;

import io.teller.balancer.resilience.Failure;
import java.util.ArrayList;
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
   * Requests waiting, one list per response timeout in use, each in deadline order: with one
   * timeout per list, insertion order is deadline order.
   */
  private final List<Waiting> waiting = new ArrayList<>(2);

  /**
   * Requests that share one response timeout, oldest first: a list linked through the exchanges
   * themselves, so that adding and removing allocate and hash nothing (this runs twice per
   * request).
   */
  static final class Waiting {
    private final int timeoutMillis;
    private Exchange oldest;
    private Exchange newest;

    private Waiting(int timeoutMillis) {
      this.timeoutMillis = timeoutMillis;
    }

    private void append(Exchange exchange) {
      exchange.waiting = this;
      exchange.earlier = newest;
      exchange.later = null;
      if (newest == null) {
        oldest = exchange;
      } else {
        newest.later = exchange;
      }
      newest = exchange;
    }

    private void unlink(Exchange exchange) {
      if (exchange.earlier == null) {
        oldest = exchange.later;
      } else {
        exchange.earlier.later = exchange.later;
      }
      if (exchange.later == null) {
        newest = exchange.earlier;
      } else {
        exchange.later.earlier = exchange.earlier;
      }
      exchange.waiting = null;
      exchange.earlier = null;
      exchange.later = null;
    }
  }

  /** Starts {@code exchange}'s response timeout: its request has been sent whole. */
  void add(Exchange exchange) {
    remove(exchange); // a second start (another attempt) restarts it
    exchange.deadlineNanos = System.nanoTime() + exchange.responseMillis * 1_000_000L;
    for (Waiting list : waiting) {
      if (list.timeoutMillis == exchange.responseMillis) {
        list.append(exchange);
        return;
      }
    }
    Waiting list = new Waiting(exchange.responseMillis);
    waiting.add(list);
    list.append(exchange);
  }

  /** Ends {@code exchange}'s response timeout: its instance answered, or failed. */
  void remove(Exchange exchange) {
    if (exchange.waiting != null) {
      exchange.waiting.unlink(exchange);
    }
  }

  /** Cancels the requests whose instance has not answered in time; called periodically. */
  void expire() {
    long now = System.nanoTime();
    List<Exchange> late = null;
    for (Waiting list : waiting) {
      // The rest of a list are later than the first one not due.
      while (list.oldest != null && list.oldest.deadlineNanos <= now) {
        Exchange exchange = list.oldest;
        list.unlink(exchange);
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
