package io.teller.balancer.proxy;

import io.teller.balancer.edge.Http1Guard;
import io.teller.balancer.resilience.Failure;
import io.teller.balancer.resilience.Resilience;

/**
 * The request path's one exit for failures, whichever stage failed: the first failure of an
 * exchange is counted once by the {@link Resilience} policy and turned into the client's answer
 * ({@link Responses}); later ones are echoes of it (the reset of a cancelled request, the close of
 * a cut stream) and change nothing.
 */
final class Failures {

  private final Resilience resilience;
  private final Http1Guard.Rejections rejections;

  Failures(Resilience resilience, Http1Guard.Rejections rejections) {
    this.resilience = resilience;
    this.rejections = rejections;
  }

  void fail(Exchange exchange, Failure failure) {
    if (!exchange.failed(failure)) {
      return;
    }
    resilience.record(failure);
    if (failure.rejection() != null) {
      rejections.rejected(
          failure.rejection(),
          failure.reason(),
          exchange.request.remoteAddress() == null
              ? null
              : exchange.request.remoteAddress().hostAddress());
    }
    Responses.answer(exchange.request, failure, exchange.explain);
  }
}
