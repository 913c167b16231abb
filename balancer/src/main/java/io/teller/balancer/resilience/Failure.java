package io.teller.balancer.resilience;

import io.teller.balancer.edge.Rejection;
import java.net.ConnectException;
import java.util.Locale;
import java.util.concurrent.TimeoutException;

/**
 * Why a request or a connection did not get its answer: what happened ({@link Kind}), whose fault
 * it was ({@link Fault}), and the HTTP status the client is answered with. The data path's one
 * failure type (DESIGN decision 9): every stage fails with one, one place answers it, one place
 * ({@link Resilience#record}) counts it, and retries and ejections follow from its fault alone.
 *
 * <p>Stackless: failures are everyday events on a proxy (a client that leaves, an instance that
 * refuses), and a stack trace per failed request would cost more than the request.
 */
public final class Failure extends RuntimeException {

  /** The party whose doing the failure is. */
  public enum Fault {
    /** The client: it left, reset its stream, stopped mid-upload, asked for nothing we route. */
    CLIENT,
    /** The instance: it refused, reset, did not answer in time, cut its answer short. */
    INSTANCE,
    /** The balancer itself: no registry state yet, no instance to send to, a bug. */
    BALANCER
  }

  /** What happened, with the status an HTTP client is answered with. */
  public enum Kind {
    /** The balancer does not hold the registry's state yet. */
    NOT_READY(503),
    /** No route matches the request (L4: no service for the listener or the server name). */
    NO_ROUTE(404),
    /** The service has no instance that may take traffic, or none left to try. */
    NO_INSTANCE(503),
    /** The instance could not be reached: refused, unreachable, connect timeout. */
    CONNECT(502),
    /** The instance closed or reset the connection before or while answering. */
    RESET(502),
    /** The instance did not send its response headers in time. */
    TIMEOUT(504),
    /** The client closed its connection or reset its stream before its answer was complete. */
    CLIENT_GONE(499),
    /** L4: the first bytes of an SNI listener's connection are no usable TLS ClientHello. */
    BAD_HELLO(400),
    /**
     * The request is refused as it stands (a path that could escape its route, a host conflict).
     */
    REJECTED(400),
    /** Something the balancer did not expect: a bug. */
    INTERNAL(500);

    private final int status;
    private final String label;

    Kind(int status) {
      this.status = status;
      this.label = name().toLowerCase(Locale.ROOT);
    }

    /** The status an HTTP client gets for it (499: the client is gone; logged, never sent). */
    public int status() {
      return status;
    }

    /** The kind as it appears in logs and metrics labels: lower case. */
    public String label() {
      return label;
    }
  }

  private final Kind kind;
  private final Fault fault;
  private final String service;
  private final String instance;
  private final boolean replayable;
  private Rejection rejection;
  private boolean recorded;

  private Failure(
      Kind kind, Fault fault, String service, String instance, boolean replayable, String reason) {
    super(reason, null, false, false);
    this.kind = kind;
    this.fault = fault;
    this.service = service;
    this.instance = instance;
    this.replayable = replayable;
  }

  /** Until the first registry snapshot is applied: the client should come back in a second. */
  public static Failure notReady() {
    return new Failure(
        Kind.NOT_READY,
        Fault.BALANCER,
        null,
        null,
        false,
        "the balancer has not received the registry's state yet; retry in a second");
  }

  /** No route for what the client asked ({@code what}: host and path, or the server name). */
  public static Failure noRoute(String what) {
    return new Failure(Kind.NO_ROUTE, Fault.CLIENT, null, null, false, "no route for " + what);
  }

  /** An L4 listener whose service the registry does not know (a configuration matter). */
  public static Failure unknownService(String service) {
    return new Failure(
        Kind.NO_ROUTE,
        Fault.BALANCER,
        null,
        null,
        false,
        "service " + service + " is not known to the registry");
  }

  /** No instance of {@code service} may take traffic. */
  public static Failure noInstance(String service) {
    return new Failure(
        Kind.NO_INSTANCE,
        Fault.BALANCER,
        service,
        null,
        false,
        "no available instance of service " + service);
  }

  /** The instance could not be reached: nothing reached it, so any request may go elsewhere. */
  public static Failure connect(String service, String instance, Throwable cause) {
    return new Failure(
        Kind.CONNECT,
        Fault.INSTANCE,
        service,
        instance,
        true,
        "cannot connect to instance " + instance + " of service " + service + ": " + reason(cause));
  }

  /**
   * The instance failed before its response headers.
   *
   * @param replayable whether the request may be sent again elsewhere: it may have reached the
   *     instance, so only an idempotent request without a body is
   */
  public static Failure reset(
      String service, String instance, Throwable cause, boolean replayable) {
    return new Failure(
        Kind.RESET,
        Fault.INSTANCE,
        service,
        instance,
        replayable,
        "instance " + instance + " of service " + service + " failed: " + reason(cause));
  }

  /** The instance's answer broke off after its headers went to the client. */
  public static Failure cutShort(String service, String instance, Throwable cause) {
    return new Failure(
        Kind.RESET,
        Fault.INSTANCE,
        service,
        instance,
        false,
        "instance "
            + instance
            + " of service "
            + service
            + " cut its answer short: "
            + reason(cause));
  }

  /** The instance sent no response headers within {@code millis}. */
  public static Failure timeout(String service, String instance, int millis) {
    return new Failure(
        Kind.TIMEOUT,
        Fault.INSTANCE,
        service,
        instance,
        false,
        "instance "
            + instance
            + " of service "
            + service
            + " did not answer within "
            + millis
            + " ms");
  }

  /** The client left before its answer was complete ({@code instance} may be null). */
  public static Failure clientGone(String service, String instance) {
    return new Failure(
        Kind.CLIENT_GONE,
        Fault.CLIENT,
        service,
        instance,
        false,
        "the client closed its connection or stream before the answer was complete");
  }

  /** L4: the client sent no usable TLS ClientHello ({@code why}). */
  public static Failure badHello(String why) {
    return new Failure(Kind.BAD_HELLO, Fault.CLIENT, null, null, false, why);
  }

  /** A failure nobody typed: the balancer's own. */
  public static Failure internal(String service, Throwable cause) {
    return new Failure(
        Kind.INTERNAL, Fault.BALANCER, service, null, false, "internal error: " + reason(cause));
  }

  /** The request is refused before routing: counted as an edge rejection, the connection closed. */
  public static Failure rejected(Rejection rejection, String detail) {
    Failure failure = new Failure(Kind.REJECTED, Fault.CLIENT, null, null, false, detail);
    failure.rejection = rejection;
    return failure;
  }

  /** Why it was refused, for a {@link Kind#REJECTED} failure; else null. */
  public Rejection rejection() {
    return rejection;
  }

  /** {@code cause} if it is a failure, else an internal one. */
  public static Failure of(Throwable cause, String service) {
    return cause instanceof Failure failure ? failure : internal(service, cause);
  }

  public Kind kind() {
    return kind;
  }

  public Fault fault() {
    return fault;
  }

  /** The HTTP status for the client. */
  public int status() {
    return rejection != null ? rejection.status() : kind.status;
  }

  /** The service concerned, or null (no route, not ready). */
  public String service() {
    return service;
  }

  /** The instance concerned, or null. */
  public String instance() {
    return instance;
  }

  /** Whether another instance may be tried: the request did not, or may safely again, reach one. */
  public boolean replayable() {
    return replayable;
  }

  /** The one-line reason given to the client and the log. */
  public String reason() {
    return getMessage();
  }

  /** Marks it counted; returns false if it was already (a failure is counted once). */
  boolean markRecorded() {
    if (recorded) {
      return false;
    }
    recorded = true;
    return true;
  }

  /** The first line of what went wrong, for a reason given to a client. */
  static String reason(Throwable failure) {
    if (failure instanceof ConnectException) {
      return "connection refused";
    }
    if (failure instanceof TimeoutException) {
      return "timed out";
    }
    String message = failure.getMessage();
    return message == null
        ? failure.getClass().getSimpleName()
        : message.lines().findFirst().orElse("");
  }
}
