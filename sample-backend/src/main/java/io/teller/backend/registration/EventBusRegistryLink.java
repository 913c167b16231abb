package io.teller.backend.registration;

import io.teller.common.model.Instance;
import io.teller.common.model.RegistryContract;
import io.teller.common.model.RegistryFailure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.function.Supplier;

/**
 * The registry over the clustered event bus ({@link RegistryContract}), for a backend that is a
 * lite member. Registrations name this member, so the registry drops them at once if the member
 * leaves the cluster without deregistering.
 */
public final class EventBusRegistryLink implements RegistryLink {

  /** A registration may wait for a new registry leader (up to 15 s there); a retry is cheaper. */
  static final long REQUEST_TIMEOUT_MS = 10_000;

  private final Vertx vertx;
  private final Supplier<String> member;
  private final String routePrefix;

  /**
   * @param vertx the clustered Vert.x
   * @param member this node's cluster member id ({@code TellerCluster::memberId}), read at each
   *     registration: a member that merges back into the cluster after a split gets a new one
   * @param routePrefix the route of the service if this registration creates it
   */
  public EventBusRegistryLink(Vertx vertx, Supplier<String> member, String routePrefix) {
    this.vertx = vertx;
    this.member = member;
    this.routePrefix = routePrefix;
  }

  @Override
  public Future<JsonObject> register(String service, Instance.Registration registration) {
    return request(new RegistryContract.Register(service, registration, member.get(), routePrefix));
  }

  @Override
  public Future<JsonObject> heartbeat(String service, String id) {
    return request(new RegistryContract.Heartbeat(service, id));
  }

  @Override
  public Future<JsonObject> deregister(String service, String id) {
    return request(new RegistryContract.Deregister(service, id, true));
  }

  @Override
  public String describe() {
    return "on the event bus";
  }

  private Future<JsonObject> request(RegistryContract.Request request) {
    return vertx
        .eventBus()
        .<JsonObject>request(
            request.address(),
            request.toJson(),
            new DeliveryOptions().setSendTimeout(REQUEST_TIMEOUT_MS))
        .map(Message::body)
        .recover(failure -> Future.failedFuture(classify(failure)));
  }

  /** What the backend does about a failure: the registry's kind of failure decides. */
  static RegistryLinkException classify(Throwable failure) {
    RegistryFailure registry = RegistryFailure.of(failure);
    return switch (registry.kind()) {
      case NOT_FOUND ->
          new RegistryLinkException(RegistryLinkException.Kind.NOT_FOUND, registry.detail());
      case INVALID ->
          new RegistryLinkException(
              RegistryLinkException.Kind.REFUSED,
              registry.field() == null
                  ? registry.detail()
                  : registry.field() + ": " + registry.detail());
      case UNAVAILABLE ->
          new RegistryLinkException(RegistryLinkException.Kind.UNREACHABLE, registry.detail());
    };
  }
}
