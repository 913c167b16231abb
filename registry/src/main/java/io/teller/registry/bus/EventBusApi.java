package io.teller.registry.bus;

import io.teller.common.model.Instance;
import io.teller.common.model.RegistryContract;
import io.teller.common.model.RegistryFailure;
import io.teller.common.model.Snapshot;
import io.teller.registry.core.RegistryService;
import io.teller.registry.core.WriteCommand;
import io.teller.registry.guard.InstanceGuard;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The registry's event-bus API ({@link RegistryContract}): register, heartbeat, deregister and
 * snapshot, answered by whichever registry node gets the request. Requests are read and validated
 * here, a registration's address by the {@link InstanceGuard}, as over REST; failures are answered
 * as {@link RegistryFailure}s (the failure code is the HTTP status).
 */
public final class EventBusApi {

  private final Vertx vertx;
  private final RegistryService registry;
  private final InstanceGuard guard;
  private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();

  public EventBusApi(Vertx vertx, RegistryService registry, InstanceGuard guard) {
    this.vertx = vertx;
    this.registry = registry;
    this.guard = guard;
  }

  public Future<Void> start() {
    answer(
        RegistryContract.REGISTER,
        body -> {
          RegistryContract.Register request = RegistryContract.Register.fromJson(body);
          return guard
              .admit(request.registration())
              .compose(
                  admitted ->
                      registry.write(
                          new WriteCommand.Register(
                              request.service(),
                              request.registration(),
                              Instance.SOURCE_EVENT_BUS,
                              request.member(),
                              request.routePrefix())))
              .map(stored -> stored.instance().toJson());
        });
    answer(
        RegistryContract.HEARTBEAT,
        body -> {
          RegistryContract.Heartbeat request = RegistryContract.Heartbeat.fromJson(body);
          return registry.heartbeat(request.service(), request.id()).map(Instance::toJson);
        });
    answer(
        RegistryContract.DEREGISTER,
        body -> {
          RegistryContract.Deregister request = RegistryContract.Deregister.fromJson(body);
          return registry
              .write(new WriteCommand.Deregister(request.service(), request.id(), request.drain()))
              .map(deregistered -> deregistered.instance().toJson());
        });
    answer(RegistryContract.SNAPSHOT, body -> registry.snapshot().map(Snapshot::toJson));
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList()).mapEmpty();
  }

  public Future<Void> stop() {
    return Future.join(consumers.stream().map(MessageConsumer::unregister).toList()).mapEmpty();
  }

  private void answer(String address, Function<JsonObject, Future<JsonObject>> handler) {
    consumers.add(
        vertx
            .eventBus()
            .<JsonObject>consumer(
                address,
                message ->
                    // compose: a request that fails validation fails the future, like any other.
                    Future.succeededFuture(message.body())
                        .compose(handler)
                        .onSuccess(message::reply)
                        .onFailure(failure -> RegistryFailure.of(failure).failReply(message))));
  }
}
