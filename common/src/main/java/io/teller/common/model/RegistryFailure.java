package io.teller.common.model;

import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

/**
 * A registry request that failed, and the one translation of such failures between exceptions,
 * event-bus replies and {@code application/problem+json}. Every failure is one of three kinds, each
 * an HTTP status: the request was invalid (400, naming the field at fault), the registry does not
 * know what it names (404), or the registry could not complete it (503: no leader, a timeout, a
 * disk that failed; the caller may try again).
 *
 * <p>On the event bus the failure code is the status; a 400's message is {@code {"field",
 * "detail"}} as JSON, the others' message is the detail. Over REST the body is an RFC 9457 problem
 * with the same status, detail and field.
 */
public final class RegistryFailure extends RuntimeException {

  /** What went wrong, from the caller's side. */
  public enum Kind {
    /** The request is invalid: fixing it is the caller's business. */
    INVALID(400, "Bad Request"),
    /** The registry does not know the service or instance asked for. */
    NOT_FOUND(404, "Not Found"),
    /** The registry could not complete the request; it may succeed if tried again. */
    UNAVAILABLE(503, "Service Unavailable");

    private final int status;
    private final String title;

    Kind(int status, String title) {
      this.status = status;
      this.title = title;
    }
  }

  private static final String COULD_NOT = "the registry could not complete the request: ";

  private final Kind kind;
  private final String field;

  private RegistryFailure(Kind kind, String detail, String field) {
    super(detail, null, false, false);
    this.kind = kind;
    this.field = field;
  }

  /** The request is invalid at {@code field} (a JSON path such as {@code routes[0].hosts[1]}). */
  public static RegistryFailure invalid(String field, String detail) {
    return new RegistryFailure(Kind.INVALID, detail, field);
  }

  /** The registry does not know what the request names. */
  public static RegistryFailure notFound(String detail) {
    return new RegistryFailure(Kind.NOT_FOUND, detail, null);
  }

  /** The registry could not complete the request. */
  public static RegistryFailure unavailable(String detail) {
    return new RegistryFailure(Kind.UNAVAILABLE, detail, null);
  }

  public Kind kind() {
    return kind;
  }

  /** The HTTP status of this kind of failure; also its failure code on the event bus. */
  public int status() {
    return kind.status;
  }

  /** What went wrong, in one line. */
  public String detail() {
    return getMessage();
  }

  /** The field at fault of an invalid request, or null. */
  public String field() {
    return field;
  }

  /**
   * Any failure as a registry failure: a {@link ValidationException} is invalid at its field, an
   * event-bus {@link ReplyException} is read back as the failure the other side replied with (a
   * request no registry node answered is unavailable), and anything else is unavailable.
   */
  public static RegistryFailure of(Throwable failure) {
    if (failure instanceof RegistryFailure registry) {
      return registry;
    }
    if (failure instanceof ValidationException invalid) {
      return invalid(invalid.field(), invalid.detail());
    }
    if (failure instanceof ReplyException reply) {
      return fromReply(reply);
    }
    return unavailable(COULD_NOT + failure.getMessage());
  }

  /** Answers {@code message} with this failure. */
  public void failReply(Message<?> message) {
    message.fail(status(), replyMessage());
  }

  /**
   * This failure as {@link #failReply} has it arrive at the sender, for a sender that got it
   * without the event bus: read back with {@link #of}, it is what the sender would have read.
   */
  public ReplyException asReply() {
    return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, status(), replyMessage());
  }

  private String replyMessage() {
    return kind == Kind.INVALID
        ? new JsonObject().put("field", field).put("detail", detail()).encode()
        : detail();
  }

  private static RegistryFailure fromReply(ReplyException reply) {
    if (reply.failureType() == ReplyFailure.NO_HANDLERS) {
      return unavailable("no registry node is reachable");
    }
    String message = String.valueOf(reply.getMessage());
    if (reply.failureType() == ReplyFailure.TIMEOUT) {
      return unavailable("no registry node answered in time");
    }
    if (reply.failureType() != ReplyFailure.RECIPIENT_FAILURE) {
      return unavailable(COULD_NOT + message);
    }
    if (reply.failureCode() == Kind.INVALID.status) {
      try {
        JsonObject problem = new JsonObject(message);
        return invalid(problem.getString("field"), problem.getString("detail"));
      } catch (DecodeException | ClassCastException e) {
        return invalid(null, message);
      }
    }
    if (reply.failureCode() == Kind.NOT_FOUND.status) {
      return notFound(message);
    }
    // 503, and the 500 that registry nodes before this class replied with.
    return unavailable(message);
  }

  /** This failure as an RFC 9457 problem, the body of a REST answer with {@link #status()}. */
  public JsonObject toProblem() {
    return problem(status(), kind.title, detail(), field);
  }

  /**
   * An RFC 9457 problem ({@code application/problem+json}), the one error format of the registry's
   * REST API; {@code field} (the field at fault) is left out when null.
   */
  public static JsonObject problem(int status, String title, String detail, String field) {
    JsonObject problem =
        new JsonObject()
            .put("type", "about:blank")
            .put("title", title)
            .put("status", status)
            .put("detail", detail);
    if (field != null) {
      problem.put("field", field);
    }
    return problem;
  }
}
