package io.teller.balancer.edge;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Counts every refusal at the edge in {@code teller_rejected_requests_total{reason}} and hands it
 * to the access log. The counters exist from the start, one per {@link Rejection}, so that a
 * dashboard shows zero rather than nothing.
 */
public final class EdgeRejections implements Http1Guard.Rejections {

  private final Map<Rejection, Counter> counters = new EnumMap<>(Rejection.class);
  private final BiConsumer<String, String[]> log;

  /**
   * @param log told of each refusal: the client's address, and {status, reason, detail}
   */
  public EdgeRejections(MeterRegistry registry, BiConsumer<String, String[]> log) {
    for (Rejection rejection : Rejection.values()) {
      counters.put(
          rejection,
          Counter.builder("teller.rejected.requests")
              .description("requests refused at the edge before reaching an instance, by reason")
              .tag("reason", rejection.label())
              .register(registry));
    }
    this.log = log;
  }

  @Override
  public void rejected(Rejection rejection, String detail, String client) {
    counters.get(rejection).increment();
    log.accept(
        client, new String[] {String.valueOf(rejection.status()), rejection.label(), detail});
  }
}
