package io.teller.backend.registration;

import io.teller.common.model.Instance;
import io.teller.common.model.RegistryContract;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
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
    return request(
        RegistryContract.REGISTER,
        new JsonObject()
            .put("service", service)
            .put("registration", registration.toJson())
            .put("member", member.get())
            .put("routePrefix", routePrefix));
  }

  @Override
  public Future<JsonObject> heartbeat(String service, String id) {
    return request(
        RegistryContract.HEARTBEAT, new JsonObject().put("service", service).put("id", id));
  }

  @Override
  public Future<JsonObject> deregister(String service, String id) {
    return request(
        RegistryContract.DEREGISTER,
        new JsonObject().put("service", service).put("id", id).put("drain", true));
  }

  @Override
  public String describe() {
    return "on the event bus";
  }

  private Future<JsonObject> request(String address, JsonObject body) {
    return vertx
        .eventBus()
        .<JsonObject>request(
            address, body, new DeliveryOptions().setSendTimeout(REQUEST_TIMEOUT_MS))
        .map(Message::body)
        .recover(failure -> Future.failedFuture(classify(failure)));
  }

  static RegistryLinkException classify(Throwable failure) {
    if (failure instanceof ReplyException reply) {
      switch (reply.failureType()) {
        case NO_HANDLERS:
          return new RegistryLinkException(
              RegistryLinkException.Kind.UNREACHABLE, "no registry node");
        case TIMEOUT:
          return new RegistryLinkException(
              RegistryLinkException.Kind.UNREACHABLE,
              "no answer within " + REQUEST_TIMEOUT_MS + " ms");
        case RECIPIENT_FAILURE:
          int code = reply.failureCode();
          if (code == 404) {
            return new RegistryLinkException(
                RegistryLinkException.Kind.NOT_FOUND, reply.getMessage());
          }
          if (code >= 400 && code < 500) {
            return new RegistryLinkException(
                RegistryLinkException.Kind.REFUSED, code + " " + reply.getMessage());
          }
          break;
        default:
          break;
      }
    }
    return new RegistryLinkException(
        RegistryLinkException.Kind.UNREACHABLE, String.valueOf(failure.getMessage()));
  }
}
