package io.teller.balancer.tcp;

import static org.assertj.core.api.Assumptions.assumeThat;

import io.vertx.core.transport.Transport;

/**
 * Every L4 test of {@link TcpForwardingTest} again, with the balancer on io_uring (the default
 * {@code transport: auto} picks it where it loads): half-closes, resets, back-pressure and SNI go
 * through Netty's io_uring channels rather than NIO's. Skipped, saying why, where io_uring does not
 * load.
 */
class TcpForwardingOnIoUringTest extends TcpForwardingTest {

  @Override
  String transport() {
    assumeThat(Transport.IO_URING != null && Transport.IO_URING.available())
        .as(
            "io_uring does not load here: %s",
            Transport.IO_URING == null ? "no classes" : Transport.IO_URING.unavailabilityCause())
        .isTrue();
    return "io_uring";
  }
}
