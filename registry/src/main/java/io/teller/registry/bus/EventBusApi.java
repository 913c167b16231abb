package io.teller.registry.bus;

import io.teller.common.model.Instance;
import io.teller.common.model.RegistryContract;
import io.teller.common.model.ValidationException;
import io.teller.registry.core.NotFoundException;
import io.teller.registry.core.RegistryService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * The registry's event-bus API ({@link RegistryContract}): register, heartbeat, deregister and
 * snapshot, answered by whichever registry node gets the request. Failures carry an HTTP status as
 * failure code: 400 with {@code {"field", "detail"}} as message, 404 for an unknown instance.
 */
public final class EventBusApi {

  private final Vertx vertx;
  private final RegistryService registry;
  private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();

  public EventBusApi(Vertx vertx, RegistryService registry) {
    this.vertx = vertx;
    this.registry = registry;
  }

  public Future<Void> start() {
    consumers.add(
        vertx
            .eventBus()
            .consumer(
                RegistryContract.REGISTER,
                message ->
                    answer(
                        message,
                        registry
                            .register(
                                message.body().getString("service"),
                                message.body().getJsonObject("registration", new JsonObject()),
                                Instance.SOURCE_EVENT_BUS,
                                message.body().getString("member"),
                                message.body().getString("routePrefix"))
                            .map(reply -> reply.getJsonObject("instance")))));
    consumers.add(
        vertx
            .eventBus()
            .consumer(
                RegistryContract.HEARTBEAT,
                message ->
                    answer(
                        message,
                        registry
                            .heartbeat(
                                message.body().getString("service"), message.body().getString("id"))
                            .map(Instance::toJson))));
    consumers.add(
        vertx
            .eventBus()
            .consumer(
                RegistryContract.DEREGISTER,
                message ->
                    answer(
                        message,
                        registry
                            .deregister(
                                message.body().getString("service"),
                                message.body().getString("id"),
                                message.body().getBoolean("drain", true))
                            .map(reply -> reply.getJsonObject("instance")))));
    consumers.add(
        vertx
            .eventBus()
            .consumer(
                RegistryContract.SNAPSHOT,
                message ->
                    answer(message, registry.snapshot().map(snapshot -> snapshot.toJson()))));
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList()).mapEmpty();
  }

  public Future<Void> stop() {
    return Future.join(consumers.stream().map(MessageConsumer::unregister).toList()).mapEmpty();
  }

  private static void answer(Message<JsonObject> message, Future<JsonObject> result) {
    result.onComplete(
        done -> {
          if (done.succeeded()) {
            message.reply(done.result());
          } else if (done.cause() instanceof ValidationException v) {
            message.fail(
                400, new JsonObject().put("field", v.field()).put("detail", v.detail()).encode());
          } else if (done.cause() instanceof NotFoundException n) {
            message.fail(404, n.getMessage());
          } else {
            message.fail(500, String.valueOf(done.cause().getMessage()));
          }
        });
  }
}
