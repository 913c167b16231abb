package io.teller.registry.core;

import com.hazelcast.cluster.Member;
import io.teller.common.model.Instance;
import io.teller.common.model.InstanceStatus;
import io.teller.common.model.Service;
import io.teller.common.model.Snapshot;
import io.teller.common.model.ValidationException;
import io.teller.registry.store.RegistryStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.List;
import java.util.UUID;

/**
 * The registry's operations, as every API (REST, event bus) and every background task uses them.
 * Reads go to the cluster's maps from this node; writes go to the leading registry node's {@link
 * RegistryWriter}, which applies them in order; heartbeats update the maps directly.
 */
public final class RegistryService {

  private static final long WRITE_TIMEOUT_MS = 5_000;
  private static final long MERGE_TIMEOUT_MS = 300_000;
  private static final long LEADER_WAIT_MS = 15_000;
  private static final long RETRY_DELAY_MS = 100;

  private final Vertx vertx;
  private final RegistryStore store;
  private final String nodeId;
  private final Clock clock;
  private final Durability durability;
  private MessageConsumer<JsonObject> writerConsumer;

  public RegistryService(
      Vertx vertx, RegistryStore store, String nodeId, Clock clock, Durability durability) {
    this.vertx = vertx;
    this.store = store;
    this.nodeId = nodeId;
    this.clock = clock;
    this.durability = durability;
  }

  /** Starts this node's writer, used when this node leads. Call from the verticle's context. */
  public Future<Void> start() {
    RegistryWriter writer = new RegistryWriter(vertx, store, clock, durability);
    writerConsumer =
        vertx
            .eventBus()
            .consumer(
                WriteCommands.ADDRESS_PREFIX + nodeId,
                message ->
                    writer
                        .apply(message.body())
                        .onComplete(
                            result -> {
                              if (result.succeeded()) {
                                message.reply(result.result());
                              } else if (result.cause() instanceof ValidationException v) {
                                message.fail(
                                    400,
                                    new JsonObject()
                                        .put("field", v.field())
                                        .put("detail", v.detail())
                                        .encode());
                              } else if (result.cause() instanceof NotFoundException n) {
                                message.fail(404, n.getMessage());
                              } else {
                                message.fail(500, String.valueOf(result.cause().getMessage()));
                              }
                            }));
    return writerConsumer.completion();
  }

  public Future<Void> stop() {
    return writerConsumer == null ? Future.succeededFuture() : writerConsumer.unregister();
  }

  /** This node's Hazelcast member id. */
  public String nodeId() {
    return nodeId;
  }

  /** The store, for background tasks running on workers. */
  public RegistryStore store() {
    return store;
  }

  // ---- reads ----

  public Future<List<Service>> services() {
    return blocking(store::services);
  }

  public Future<Service> service(String name) {
    return blocking(
        () ->
            store
                .service(name)
                .orElseThrow(() -> new NotFoundException("no service named " + name)));
  }

  public Future<List<Instance>> instances(String service) {
    return blocking(
        () -> {
          if (store.service(service).isEmpty()) {
            throw new NotFoundException("no service named " + service);
          }
          return store.instances(service);
        });
  }

  public Future<Instance> instance(String service, String id) {
    return blocking(
        () ->
            store
                .instance(id)
                .filter(i -> i.service().equals(service))
                .orElseThrow(
                    () -> new NotFoundException("service " + service + " has no instance " + id)));
  }

  public Future<Snapshot> snapshot() {
    return blocking(store::snapshot);
  }

  // ---- writes ----

  /** Creates or replaces a service; the reply has {@code service} and {@code created}. */
  public Future<JsonObject> putService(String name, JsonObject body) {
    try {
      Service.fromJson(body, name); // fail fast, before the round trip to the leader
    } catch (ValidationException e) {
      return Future.failedFuture(e);
    }
    return write(
        new JsonObject()
            .put(WriteCommands.OP, WriteCommands.PUT_SERVICE)
            .put("name", name)
            .put("service", body));
  }

  public Future<Void> deleteService(String name) {
    return write(
            new JsonObject().put(WriteCommands.OP, WriteCommands.DELETE_SERVICE).put("name", name))
        .mapEmpty();
  }

  /**
   * Registers an instance (or finds the one at the same address); the reply has {@code instance}
   * and {@code created}.
   */
  public Future<JsonObject> register(
      String service, JsonObject registration, String source, String member) {
    return register(service, registration, source, member, null);
  }

  /**
   * As {@link #register(String, JsonObject, String, String)}; if the service does not exist yet, it
   * is created with a route on {@code routePrefix} (default {@code /<service>}).
   */
  public Future<JsonObject> register(
      String service, JsonObject registration, String source, String member, String routePrefix) {
    if (routePrefix != null
        && (!routePrefix.startsWith("/") || routePrefix.chars().anyMatch(c -> c <= ' '))) {
      return Future.failedFuture(
          new ValidationException("routePrefix", "must start with / and hold no spaces"));
    }
    try {
      Service.checkName(service, "service");
      Instance.Registration.fromJson(registration);
    } catch (ValidationException e) {
      return Future.failedFuture(e);
    }
    JsonObject command =
        new JsonObject()
            .put(WriteCommands.OP, WriteCommands.REGISTER)
            .put("service", service)
            .put("registration", registration)
            .put("source", source);
    if (member != null) {
      command.put("member", member);
    }
    if (routePrefix != null) {
      command.put("routePrefix", routePrefix);
    }
    return write(command);
  }

  /** Starts draining an instance, or removes it now when {@code drain} is false. */
  public Future<JsonObject> deregister(String service, String id, boolean drain) {
    return write(
        new JsonObject()
            .put(WriteCommands.OP, WriteCommands.DEREGISTER)
            .put("service", service)
            .put("id", id)
            .put("drain", drain));
  }

  /**
   * Sets an instance's weight (0 to {@link Instance#MAX_WEIGHT}); the reply has the {@code
   * instance} as it is now.
   */
  public Future<JsonObject> setWeight(String service, String id, int weight) {
    if (weight < 0 || weight > Instance.MAX_WEIGHT) {
      return Future.failedFuture(
          new ValidationException("weight", "must be between 0 and " + Instance.MAX_WEIGHT));
    }
    return write(
        new JsonObject()
            .put(WriteCommands.OP, WriteCommands.SET_WEIGHT)
            .put("service", service)
            .put("id", id)
            .put("weight", weight));
  }

  /** Records a heartbeat; fails with {@link NotFoundException} when the instance is unknown. */
  public Future<Instance> heartbeat(String service, String id) {
    return blocking(
        () ->
            store
                .updateInstance(
                    id, i -> i.service().equals(service) ? i.heartbeat(clock.instant()) : null)
                .orElseThrow(
                    () -> new NotFoundException("service " + service + " has no instance " + id)));
  }

  Future<Boolean> setStatus(String id, InstanceStatus status, String reason) {
    return write(
            new JsonObject()
                .put(WriteCommands.OP, WriteCommands.SET_STATUS)
                .put("id", id)
                .put("status", status.json())
                .put("reason", reason))
        .map(reply -> reply.getBoolean("changed"));
  }

  Future<Boolean> removeIf(String id, String reason, String member) {
    return write(
            new JsonObject()
                .put(WriteCommands.OP, WriteCommands.REMOVE_IF)
                .put("id", id)
                .put("reason", reason)
                .put("member", member))
        .map(reply -> reply.getBoolean("removed"));
  }

  /**
   * Offers a registry node's copy from disk to the cluster; the reply has the cluster run's {@code
   * incarnation} and how many {@code services} and {@code instances} were taken in.
   */
  Future<JsonObject> mergeCopy(Snapshot copy, long incarnation) {
    return write(
        new JsonObject()
            .put(WriteCommands.OP, WriteCommands.MERGE_COPY)
            .put("copy", copy.toJson())
            .put("incarnation", incarnation),
        MERGE_TIMEOUT_MS);
  }

  /** The node id of the leading registry node: the oldest data member. */
  String leaderNodeId() {
    for (Member member : store.hazelcast().getCluster().getMembers()) {
      if (!member.isLiteMember()) {
        return member.getUuid().toString();
      }
    }
    return nodeId;
  }

  private Future<JsonObject> write(JsonObject command) {
    return write(command, WRITE_TIMEOUT_MS);
  }

  /** Has the leader apply {@code command}; answers once this node's disk holds it too. */
  private Future<JsonObject> write(JsonObject command, long timeoutMs) {
    Promise<JsonObject> promise = Promise.promise();
    attempt(
        command.put("requestId", UUID.randomUUID().toString()),
        System.nanoTime() + LEADER_WAIT_MS * 1_000_000,
        timeoutMs,
        promise);
    return promise
        .future()
        .compose(
            reply -> {
              Long revision = reply.getLong(WriteCommands.LAST_REVISION);
              return revision == null
                  ? Future.succeededFuture(reply)
                  : durability.awaitDurable(revision).map(reply);
            });
  }

  private void attempt(
      JsonObject command, long deadline, long timeoutMs, Promise<JsonObject> promise) {
    String address = WriteCommands.ADDRESS_PREFIX + leaderNodeId();
    vertx
        .eventBus()
        .<JsonObject>request(address, command, new DeliveryOptions().setSendTimeout(timeoutMs))
        .onSuccess(reply -> promise.complete(reply.body()))
        .onFailure(
            failure -> {
              if (failure instanceof ReplyException reply) {
                if (reply.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
                  promise.fail(fromReply(reply));
                  return;
                }
                // No leader yet, or it just left: the next oldest takes over; try again shortly.
                if (System.nanoTime() < deadline) {
                  vertx.setTimer(
                      RETRY_DELAY_MS, t -> attempt(command, deadline, timeoutMs, promise));
                  return;
                }
              }
              promise.fail(failure);
            });
  }

  private static RuntimeException fromReply(ReplyException reply) {
    return switch (reply.failureCode()) {
      case 400 -> {
        JsonObject problem = new JsonObject(reply.getMessage());
        yield new ValidationException(problem.getString("field"), problem.getString("detail"));
      }
      case 404 -> new NotFoundException(reply.getMessage());
      default -> new IllegalStateException(reply.getMessage());
    };
  }

  private <T> Future<T> blocking(java.util.concurrent.Callable<T> work) {
    return vertx.executeBlocking(work, false);
  }
}
