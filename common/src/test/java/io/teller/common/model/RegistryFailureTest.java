package io.teller.common.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The one translation of registry failures: from exceptions, over a real event bus and back, and
 * into problem+json.
 */
class RegistryFailureTest {

  static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  static List<RegistryFailure> failures() {
    return List.of(
        RegistryFailure.invalid("routes[0].hosts[1]", "must be a host name"),
        RegistryFailure.notFound("service shop has no instance shop-0123456789"),
        RegistryFailure.unavailable("the registry could not complete the request: disk full"));
  }

  @ParameterizedTest
  @MethodSource("failures")
  void aFailureRepliedOnTheEventBusIsReadBackAsItWas(RegistryFailure failure) throws Exception {
    ReplyException reply = replyTo(failure::failReply);
    assertThat(reply.failureCode()).isEqualTo(failure.status());
    RegistryFailure read = RegistryFailure.of(reply);
    assertThat(read.kind()).isEqualTo(failure.kind());
    assertThat(read.detail()).isEqualTo(failure.detail());
    assertThat(read.field()).isEqualTo(failure.field());
  }

  @Test
  void onTheEventBusA400CarriesFieldAndDetailAsJsonAndA404ItsDetail() throws Exception {
    // What backends written against RegistryContract read.
    ReplyException invalid = replyTo(RegistryFailure.invalid("port", "must be 1-65535")::failReply);
    assertThat(new JsonObject(invalid.getMessage()))
        .isEqualTo(new JsonObject().put("field", "port").put("detail", "must be 1-65535"));
    ReplyException notFound = replyTo(RegistryFailure.notFound("no service named x")::failReply);
    assertThat(notFound.failureCode()).isEqualTo(404);
    assertThat(notFound.getMessage()).isEqualTo("no service named x");
  }

  @Test
  void exceptionsAreSortedByWhoseFaultTheyAre() {
    RegistryFailure invalid = RegistryFailure.of(new ValidationException("weight", "too heavy"));
    assertThat(invalid.kind()).isEqualTo(RegistryFailure.Kind.INVALID);
    assertThat(invalid.status()).isEqualTo(400);
    assertThat(invalid.field()).isEqualTo("weight");
    assertThat(invalid.detail()).isEqualTo("too heavy");

    RegistryFailure notFound = RegistryFailure.notFound("gone");
    assertThat(RegistryFailure.of(notFound)).isSameAs(notFound);
    assertThat(notFound.status()).isEqualTo(404);

    RegistryFailure other = RegistryFailure.of(new IllegalStateException("disk full"));
    assertThat(other.kind()).isEqualTo(RegistryFailure.Kind.UNAVAILABLE);
    assertThat(other.status()).isEqualTo(503);
    assertThat(other.detail()).isEqualTo("the registry could not complete the request: disk full");
  }

  @Test
  void noHandlerAndNoAnswerInTimeAreUnavailable() throws Exception {
    ReplyException none = failureOf(vertx.eventBus().request("nobody." + UUID.randomUUID(), "x"));
    assertThat(RegistryFailure.of(none).kind()).isEqualTo(RegistryFailure.Kind.UNAVAILABLE);
    assertThat(RegistryFailure.of(none).detail()).isEqualTo("no registry node is reachable");

    String silent = "silent." + UUID.randomUUID();
    vertx
        .eventBus()
        .consumer(silent, message -> {})
        .completion()
        .toCompletionStage()
        .toCompletableFuture()
        .get(5, TimeUnit.SECONDS);
    ReplyException late =
        failureOf(vertx.eventBus().request(silent, "x", new DeliveryOptions().setSendTimeout(50)));
    assertThat(RegistryFailure.of(late).kind()).isEqualTo(RegistryFailure.Kind.UNAVAILABLE);
    assertThat(RegistryFailure.of(late).detail()).isEqualTo("no registry node answered in time");
  }

  @Test
  void olderRepliesAreReadToo() throws Exception {
    // Registry nodes before this class answered 500 for what is now 503.
    RegistryFailure old = RegistryFailure.of(replyTo(message -> message.fail(500, "boom")));
    assertThat(old.kind()).isEqualTo(RegistryFailure.Kind.UNAVAILABLE);
    assertThat(old.detail()).isEqualTo("boom");
    RegistryFailure plain = RegistryFailure.of(replyTo(message -> message.fail(400, "bad")));
    assertThat(plain.kind()).isEqualTo(RegistryFailure.Kind.INVALID);
    assertThat(plain.detail()).isEqualTo("bad");
    assertThat(plain.field()).isNull();
  }

  @Test
  void asAProblemEachKindHasItsStatusAndTitleAndOnlyAnInvalidOneAField() {
    assertThat(RegistryFailure.invalid("port", "must be 1-65535").toProblem())
        .isEqualTo(
            new JsonObject()
                .put("type", "about:blank")
                .put("title", "Bad Request")
                .put("status", 400)
                .put("detail", "must be 1-65535")
                .put("field", "port"));
    assertThat(RegistryFailure.notFound("no service named x").toProblem())
        .isEqualTo(
            new JsonObject()
                .put("type", "about:blank")
                .put("title", "Not Found")
                .put("status", 404)
                .put("detail", "no service named x"));
    assertThat(RegistryFailure.unavailable("later").toProblem().getString("title"))
        .isEqualTo("Service Unavailable");
    assertThat(RegistryFailure.unavailable("later").toProblem().getInteger("status"))
        .isEqualTo(503);
  }

  /** The failure a consumer answering with {@code fail} gives its requester. */
  private static ReplyException replyTo(Consumer<io.vertx.core.eventbus.Message<Object>> fail)
      throws Exception {
    String address = "failures." + UUID.randomUUID();
    vertx
        .eventBus()
        .consumer(address, fail::accept)
        .completion()
        .toCompletionStage()
        .toCompletableFuture()
        .get(5, TimeUnit.SECONDS);
    return failureOf(vertx.eventBus().request(address, "x"));
  }

  private static ReplyException failureOf(Future<?> request) throws Exception {
    try {
      request.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return (ReplyException) e.getCause();
    }
    throw new AssertionError("the request succeeded");
  }
}
