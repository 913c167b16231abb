package io.teller.balancer.tcp;

import io.vertx.core.Vertx;
import io.vertx.core.transport.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The network transport the balancer's Vert.x runs on ({@code transport}): io_uring or epoll
 * (Netty's Linux native transports), or NIO (the JDK's). A native one that cannot load here
 * (another platform, a kernel without io_uring, a seccomp filter that refuses it) falls back to
 * NIO, with a warning that says why, so the balancer still starts.
 */
public final class Transports {

  private static final Logger LOG = LoggerFactory.getLogger("teller.balancer");

  private Transports() {}

  /**
   * The transport to build Vert.x with for setting {@code choice}: {@code nio}, {@code io_uring},
   * {@code epoll}, or {@code auto} (io_uring, else epoll, else NIO).
   */
  public static Transport choose(String choice) {
    return switch (choice) {
      case "nio" -> Transport.NIO;
      case "io_uring" -> orNio(Transport.IO_URING, "io_uring");
      case "epoll" -> orNio(Transport.EPOLL, "epoll");
      case "auto" -> {
        if (usable(Transport.IO_URING)) {
          yield Transport.IO_URING;
        }
        if (usable(Transport.EPOLL)) {
          LOG.info("transport io_uring not available ({}); epoll", cause(Transport.IO_URING));
          yield Transport.EPOLL;
        }
        LOG.info(
            "transports io_uring ({}) and epoll ({}) not available; nio",
            cause(Transport.IO_URING),
            cause(Transport.EPOLL));
        yield Transport.NIO;
      }
      default -> throw new IllegalArgumentException("transport " + choice);
    };
  }

  /**
   * The transport {@code vertx} runs on, by the kind of its event loops: {@code io_uring}, {@code
   * epoll}, {@code nio}, or another name if it is none of them.
   */
  public static String inUse(Vertx vertx) {
    return VertxNetty.transportName(vertx);
  }

  private static Transport orNio(Transport wanted, String name) {
    if (usable(wanted)) {
      return wanted;
    }
    LOG.warn("transport {} not available ({}); nio instead", name, cause(wanted));
    return Transport.NIO;
  }

  private static boolean usable(Transport transport) {
    // A transport whose classes cannot load at all is null here (Vert.x's TransportLoader).
    return transport != null && transport.available();
  }

  private static String cause(Transport transport) {
    if (transport == null) {
      return "its classes are not on the class path";
    }
    Throwable cause = transport.unavailabilityCause();
    return cause == null ? "no cause given" : cause.toString();
  }
}
