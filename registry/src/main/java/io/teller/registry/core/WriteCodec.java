package io.teller.registry.core;

import io.teller.common.model.Instance;
import io.teller.common.model.InstanceStatus;
import io.teller.common.model.Service;
import io.teller.common.model.Snapshot;
import io.teller.registry.core.WriteCommand.DeleteService;
import io.teller.registry.core.WriteCommand.Deregister;
import io.teller.registry.core.WriteCommand.MergeCopy;
import io.teller.registry.core.WriteCommand.PutService;
import io.teller.registry.core.WriteCommand.Register;
import io.teller.registry.core.WriteCommand.Removal;
import io.teller.registry.core.WriteCommand.RemoveIf;
import io.teller.registry.core.WriteCommand.SetStatus;
import io.teller.registry.core.WriteCommand.SetWeight;
import io.teller.registry.core.WriteReply.CopyMerged;
import io.teller.registry.core.WriteReply.Deregistered;
import io.teller.registry.core.WriteReply.InstanceStored;
import io.teller.registry.core.WriteReply.Removed;
import io.teller.registry.core.WriteReply.ServiceDeleted;
import io.teller.registry.core.WriteReply.ServiceStored;
import io.teller.registry.core.WriteReply.StatusSet;
import io.teller.registry.core.WriteReply.WeightSet;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one JSON form of {@link WriteCommand}s and {@link WriteReply}s, as they go from a registry
 * node to the leading node's writer and back: every field name of the protocol is here.
 *
 * <p>The fields are those the commands had when they were plain JSON objects, so that registry
 * nodes from before and after the commands were typed work together in one cluster (a rolling
 * upgrade). Decoding trusts its input: the node that made the command validated it.
 */
final class WriteCodec {

  /** Each node's writer listens at this prefix followed by its node id. */
  static final String ADDRESS_PREFIX = "teller.registry.writer.";

  private static final String OP = "op";
  private static final String REQUEST_ID = "requestId";
  private static final String LAST_REVISION = "lastRevision";
  private static final String PUT_SERVICE = "put-service";
  private static final String DELETE_SERVICE = "delete-service";
  private static final String REGISTER = "register";
  private static final String DEREGISTER = "deregister";
  private static final String SET_STATUS = "set-status";
  private static final String SET_WEIGHT = "set-weight";
  private static final String REMOVE_IF = "remove-if";
  private static final String MERGE_COPY = "merge-copy";

  private WriteCodec() {}

  /**
   * A command as it travels.
   *
   * @param requestId the sender's id for it, the same on every retry (the writer answers a repeated
   *     id with the first answer)
   */
  record Request(String requestId, WriteCommand<?> command) {}

  /**
   * A reply as it travels.
   *
   * @param lastRevision the highest revision the write made, 0 when it changed nothing
   */
  record Written<R extends WriteReply>(R reply, long lastRevision) {}

  static JsonObject encode(Request request) {
    JsonObject json = new JsonObject().put(REQUEST_ID, request.requestId());
    WriteCommand<?> command = request.command();
    if (command instanceof PutService c) {
      return json.put(OP, PUT_SERVICE)
          .put("name", c.service().name())
          .put("service", c.service().toJson());
    }
    if (command instanceof DeleteService c) {
      return json.put(OP, DELETE_SERVICE).put("name", c.name());
    }
    if (command instanceof Register c) {
      json.put(OP, REGISTER)
          .put("service", c.service())
          .put("registration", c.registration().toJson())
          .put("source", c.source());
      if (c.member() != null) {
        json.put("member", c.member());
      }
      if (c.routePrefix() != null) {
        json.put("routePrefix", c.routePrefix());
      }
      return json;
    }
    if (command instanceof Deregister c) {
      return json.put(OP, DEREGISTER)
          .put("service", c.service())
          .put("id", c.id())
          .put("drain", c.drain());
    }
    if (command instanceof SetStatus c) {
      return json.put(OP, SET_STATUS)
          .put("id", c.id())
          .put("status", c.status().json())
          .put("reason", c.reason());
    }
    if (command instanceof SetWeight c) {
      return json.put(OP, SET_WEIGHT)
          .put("service", c.service())
          .put("id", c.id())
          .put("weight", c.weight());
    }
    if (command instanceof RemoveIf c) {
      return json.put(OP, REMOVE_IF)
          .put("id", c.id())
          .put("reason", c.reason().json())
          .put("member", c.member());
    }
    MergeCopy c = (MergeCopy) command;
    return json.put(OP, MERGE_COPY)
        .put("copy", c.copy().toJson())
        .put("incarnation", c.incarnation());
  }

  /**
   * Reads a command.
   *
   * @throws IllegalArgumentException for an operation this node does not know (a newer node's)
   */
  static Request decode(JsonObject json) {
    String op = json.getString(OP);
    WriteCommand<?> command =
        switch (String.valueOf(op)) {
          case PUT_SERVICE ->
              // The name travels beside the service: nodes before typed commands sent the body as
              // the user gave it, possibly without a name.
              new PutService(
                  Service.fromJson(json.getJsonObject("service"), json.getString("name")));
          case DELETE_SERVICE -> new DeleteService(json.getString("name"));
          case REGISTER ->
              new Register(
                  json.getString("service"),
                  registration(json.getJsonObject("registration")),
                  json.getString("source", Instance.SOURCE_REST),
                  json.getString("member"),
                  json.getString("routePrefix"));
          case DEREGISTER ->
              new Deregister(
                  json.getString("service"), json.getString("id"), json.getBoolean("drain", true));
          case SET_STATUS ->
              new SetStatus(
                  json.getString("id"),
                  InstanceStatus.fromJson(json.getString("status")),
                  json.getString("reason"));
          case SET_WEIGHT ->
              new SetWeight(
                  json.getString("service"), json.getString("id"), json.getInteger("weight"));
          case REMOVE_IF ->
              new RemoveIf(
                  json.getString("id"),
                  Removal.fromJson(json.getString("reason")),
                  json.getString("member"));
          case MERGE_COPY ->
              new MergeCopy(
                  Snapshot.fromJson(json.getJsonObject("copy")), json.getLong("incarnation"));
          default -> throw new IllegalArgumentException("unknown write command " + op);
        };
    return new Request(json.getString(REQUEST_ID), command);
  }

  static JsonObject encodeReply(Written<?> written) {
    WriteReply reply = written.reply();
    JsonObject json = new JsonObject();
    if (reply instanceof ServiceStored r) {
      json.put("service", r.service().toJson()).put("created", r.created());
    } else if (reply instanceof ServiceDeleted) {
      json.put("removed", true);
    } else if (reply instanceof InstanceStored r) {
      json.put("instance", r.instance().toJson()).put("created", r.created());
    } else if (reply instanceof Deregistered r) {
      json.put("instance", r.instance().toJson()).put("removed", r.removed());
    } else if (reply instanceof StatusSet r) {
      json.put("changed", r.changed());
    } else if (reply instanceof WeightSet r) {
      json.put("instance", r.instance().toJson()).put("changed", r.changed());
    } else if (reply instanceof Removed r) {
      json.put("removed", r.removed());
    } else {
      CopyMerged r = (CopyMerged) reply;
      json.put("incarnation", r.incarnation())
          .put("services", r.services())
          .put("instances", r.instances());
    }
    if (written.lastRevision() > 0) {
      json.put(LAST_REVISION, written.lastRevision());
    }
    return json;
  }

  /**
   * Reads the reply to {@code command} (a reply does not say which kind it is: its command does).
   */
  static <R extends WriteReply> Written<R> decodeReply(WriteCommand<R> command, JsonObject json) {
    WriteReply reply;
    if (command instanceof PutService) {
      reply =
          new ServiceStored(
              Service.fromStored(json.getJsonObject("service")), json.getBoolean("created"));
    } else if (command instanceof DeleteService) {
      reply = new ServiceDeleted();
    } else if (command instanceof Register) {
      reply =
          new InstanceStored(
              Instance.fromJson(json.getJsonObject("instance")), json.getBoolean("created"));
    } else if (command instanceof Deregister) {
      reply =
          new Deregistered(
              Instance.fromJson(json.getJsonObject("instance")), json.getBoolean("removed"));
    } else if (command instanceof SetStatus) {
      reply = new StatusSet(json.getBoolean("changed"));
    } else if (command instanceof SetWeight) {
      reply =
          new WeightSet(
              Instance.fromJson(json.getJsonObject("instance")), json.getBoolean("changed"));
    } else if (command instanceof RemoveIf) {
      reply = new Removed(json.getBoolean("removed"));
    } else {
      reply =
          new CopyMerged(
              json.getLong("incarnation"),
              json.getInteger("services", 0),
              json.getInteger("instances", 0));
    }
    // Each command type names its reply type (WriteCommand<R>), and the branches above follow it.
    @SuppressWarnings("unchecked")
    R typed = (R) reply;
    return new Written<>(typed, json.getLong(LAST_REVISION, 0L));
  }

  /** A registration as the sending node validated it; defaults as {@code Registration} has them. */
  private static Instance.Registration registration(JsonObject json) {
    Map<String, String> metadata = new LinkedHashMap<>();
    json.getJsonObject("metadata", new JsonObject())
        .forEach(e -> metadata.put(e.getKey(), String.valueOf(e.getValue())));
    return new Instance.Registration(
        json.getString("host"),
        json.getInteger("port"),
        json.getInteger("weight", Instance.DEFAULT_WEIGHT),
        java.util.Collections.unmodifiableMap(metadata),
        json.getInteger("ttlSeconds"));
  }
}
