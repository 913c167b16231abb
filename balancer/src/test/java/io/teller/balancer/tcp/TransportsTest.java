package io.teller.balancer.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import io.vertx.core.transport.Transport;
import org.junit.jupiter.api.Test;

/** The transport setting, on real Vert.x instances built with what it chooses. */
class TransportsTest {

  @Test
  void nioIsNio() {
    assertThat(inUse(Transports.choose("nio"))).isEqualTo("nio");
  }

  @Test
  void autoTakesIoUringElseEpollElseNio() {
    String expected =
        available(Transport.IO_URING) ? "io_uring" : available(Transport.EPOLL) ? "epoll" : "nio";
    assertThat(inUse(Transports.choose("auto"))).isEqualTo(expected);
  }

  @Test
  void aNamedNativeTransportRunsWhenItLoadsElseNio() {
    assertThat(inUse(Transports.choose("io_uring")))
        .isEqualTo(available(Transport.IO_URING) ? "io_uring" : "nio");
    assertThat(inUse(Transports.choose("epoll")))
        .isEqualTo(available(Transport.EPOLL) ? "epoll" : "nio");
  }

  @Test
  void anUnknownNameIsRefused() {
    assertThatThrownBy(() -> Transports.choose("kqueue"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static boolean available(Transport transport) {
    return transport != null && transport.available();
  }

  /** What a Vert.x built on {@code transport} reports running on. */
  private static String inUse(Transport transport) {
    Vertx vertx = Vertx.builder().withTransport(transport).build();
    try {
      return Transports.inUse(vertx);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().join();
    }
  }
}
