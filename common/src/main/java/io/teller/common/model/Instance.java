package io.teller.common.model;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A backend instance of a service. Immutable. Its id is derived from service, host and port, so
 * that registering the same address again finds the same instance.
 *
 * @param id {@code <service>-<10 hex digits>}
 * @param service the service's name
 * @param host host name or IP address the balancer connects to
 * @param port TCP port, 1-65535
 * @param weight 0-1000; 0 takes no new traffic
 * @param metadata free-form string labels
 * @param ttlSeconds if set, the instance is removed when no heartbeat came for this long
 * @param status see {@link InstanceStatus}
 * @param source how it was registered: {@code rest} or {@code event-bus}
 * @param member the cluster member that registered it over the event bus (removed when that member
 *     leaves), or null
 * @param registeredAt first registration
 * @param updatedAt last change of anything but the heartbeat
 * @param lastHeartbeatAt last heartbeat (registration counts as one)
 * @param drainUntil when a draining instance is removed, or null
 * @param eligibleAt when it last became eligible for traffic (see {@link #withEligibility}), or
 *     null while it takes none; a service's slow start ramps from this moment
 * @param revision registry revision of the last change
 */
public record Instance(
    String id,
    String service,
    String host,
    int port,
    int weight,
    Map<String, String> metadata,
    Integer ttlSeconds,
    InstanceStatus status,
    String source,
    String member,
    Instant registeredAt,
    Instant updatedAt,
    Instant lastHeartbeatAt,
    Instant drainUntil,
    Instant eligibleAt,
    long revision) {

  public static final int DEFAULT_WEIGHT = 1;
  public static final int MAX_WEIGHT = 1000;
  public static final String SOURCE_REST = "rest";
  public static final String SOURCE_EVENT_BUS = "event-bus";

  private static final Set<String> REQUEST_FIELDS =
      Set.of("host", "port", "weight", "metadata", "ttlSeconds");
  private static final Pattern HOST =
      Pattern.compile(
          "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
              + "|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

  public Instance {
    metadata = Map.copyOf(metadata);
  }

  /**
   * A new instance: one that takes traffic from the start is eligible since it was last updated
   * (for a new registration, the moment it was registered).
   */
  public Instance(
      String id,
      String service,
      String host,
      int port,
      int weight,
      Map<String, String> metadata,
      Integer ttlSeconds,
      InstanceStatus status,
      String source,
      String member,
      Instant registeredAt,
      Instant updatedAt,
      Instant lastHeartbeatAt,
      Instant drainUntil,
      long revision) {
    this(
        id,
        service,
        host,
        port,
        weight,
        metadata,
        ttlSeconds,
        status,
        source,
        member,
        registeredAt,
        updatedAt,
        lastHeartbeatAt,
        drainUntil,
        status == InstanceStatus.HEALTHY && weight > 0 ? updatedAt : null,
        revision);
  }

  /** What a registration asks for: the address and its options. */
  public record Registration(
      String host, int port, int weight, Map<String, String> metadata, Integer ttlSeconds) {

    /** Reads and validates a registration body. */
    public static Registration fromJson(JsonObject json) {
      Json.onlyKnownFields(json, "", REQUEST_FIELDS);
      if (!(json.getValue("host") instanceof String host)) {
        throw new ValidationException(
            "host", json.containsKey("host") ? "must be a string" : "is required");
      }
      if (host.length() > 253 || !HOST.matcher(host).matches()) {
        throw new ValidationException("host", "must be a host name or an IP address");
      }
      if (!json.containsKey("port")) {
        throw new ValidationException("port", "is required");
      }
      int port = Json.integer(json, "", "port", 0, 1, 65535);
      int weight = Json.integer(json, "", "weight", DEFAULT_WEIGHT, 0, MAX_WEIGHT);
      Map<String, String> metadata = Json.stringMap(json, "", "metadata");
      Integer ttl = Json.optionalInteger(json, "", "ttlSeconds", 1, 86_400);
      return new Registration(host, port, weight, metadata, ttl);
    }

    public JsonObject toJson() {
      JsonObject json =
          new JsonObject()
              .put("host", host)
              .put("port", port)
              .put("weight", weight)
              .put("metadata", new JsonObject(Map.copyOf(metadata)));
      if (ttlSeconds != null) {
        json.put("ttlSeconds", ttlSeconds);
      }
      return json;
    }
  }

  /** The id of the instance of {@code service} at {@code host:port}. */
  public static String idFor(String service, String host, int port) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest(
                  (service + "\n" + host.toLowerCase() + "\n" + port)
                      .getBytes(StandardCharsets.UTF_8));
      return service + "-" + HexFormat.of().formatHex(digest, 0, 5);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  /**
   * A new instance of {@code service} at the registration's address, registered (and heartbeating)
   * at {@code now}; revision 0 until it is stored.
   */
  public static Instance registered(
      String service,
      Registration registration,
      InstanceStatus status,
      String source,
      String member,
      Instant now) {
    return new Instance(
        idFor(service, registration.host(), registration.port()),
        service,
        registration.host(),
        registration.port(),
        registration.weight(),
        registration.metadata(),
        registration.ttlSeconds(),
        status,
        source,
        member,
        now,
        now,
        now,
        null,
        0);
  }

  /**
   * Whether registering the same address again as {@code fresh} changes more than the heartbeat:
   * another weight, metadata, TTL, source or member, or this instance is draining (and comes back).
   */
  public boolean changedBy(Instance fresh) {
    return status == InstanceStatus.DRAINING
        || weight != fresh.weight
        || !metadata.equals(fresh.metadata)
        || !Objects.equals(ttlSeconds, fresh.ttlSeconds)
        || !Objects.equals(member, fresh.member)
        || !source.equals(fresh.source);
  }

  /**
   * This instance registered again as {@code fresh} (same address, so same id): it takes {@code
   * fresh}'s weight, metadata, TTL, source and member, and its time as a heartbeat; a draining
   * instance comes back with {@code fresh}'s status. It keeps its registration time, and its
   * revision (the writer gives it a new one when {@link #changedBy} holds).
   */
  public Instance registeredAgain(Instance fresh) {
    boolean revive = status == InstanceStatus.DRAINING;
    return new Instance(
        id,
        service,
        host,
        port,
        fresh.weight,
        fresh.metadata,
        fresh.ttlSeconds,
        revive ? fresh.status : status,
        fresh.source,
        fresh.member,
        registeredAt,
        changedBy(fresh) ? fresh.updatedAt : updatedAt,
        fresh.lastHeartbeatAt,
        revive ? null : drainUntil,
        revision);
  }

  /** Whether a balancer may send new requests here. */
  public boolean takesTraffic() {
    return status == InstanceStatus.HEALTHY && weight > 0;
  }

  /** Whether its TTL has run out at {@code now}. */
  public boolean expired(Instant now) {
    return ttlSeconds != null && lastHeartbeatAt.plusSeconds(ttlSeconds).isBefore(now);
  }

  public Instance withStatus(InstanceStatus newStatus, Instant now) {
    return new Instance(
        id,
        service,
        host,
        port,
        weight,
        metadata,
        ttlSeconds,
        newStatus,
        source,
        member,
        registeredAt,
        now,
        lastHeartbeatAt,
        drainUntil,
        eligibleAt,
        revision);
  }

  /**
   * This instance with another weight, changed at {@code now}; everything else is kept (its
   * eligibility follows from the store's rule, {@link #withEligibility}).
   */
  public Instance withWeight(int newWeight, Instant now) {
    return new Instance(
        id,
        service,
        host,
        port,
        newWeight,
        metadata,
        ttlSeconds,
        status,
        source,
        member,
        registeredAt,
        now,
        lastHeartbeatAt,
        drainUntil,
        eligibleAt,
        revision);
  }

  public Instance draining(Instant now, Instant until) {
    return new Instance(
        id,
        service,
        host,
        port,
        weight,
        metadata,
        ttlSeconds,
        InstanceStatus.DRAINING,
        source,
        member,
        registeredAt,
        now,
        lastHeartbeatAt,
        until,
        eligibleAt,
        revision);
  }

  public Instance heartbeat(Instant now) {
    return new Instance(
        id,
        service,
        host,
        port,
        weight,
        metadata,
        ttlSeconds,
        status,
        source,
        member,
        registeredAt,
        updatedAt,
        now,
        drainUntil,
        eligibleAt,
        revision);
  }

  public Instance withRevision(long newRevision) {
    return new Instance(
        id,
        service,
        host,
        port,
        weight,
        metadata,
        ttlSeconds,
        status,
        source,
        member,
        registeredAt,
        updatedAt,
        lastHeartbeatAt,
        drainUntil,
        eligibleAt,
        newRevision);
  }

  /**
   * This instance as it is stored when it replaces {@code before}, with {@link #eligibleAt} set by
   * one rule: an instance that takes traffic now and did not before (healthy again after failing or
   * starting, revived from draining, weight raised from 0) became eligible at this change's {@link
   * #updatedAt}; one that took traffic before and still does keeps the moment it had; one that
   * takes none has none.
   */
  public Instance withEligibility(Instance before) {
    Instant since;
    if (!takesTraffic()) {
      since = null;
    } else if (before == null || !before.takesTraffic()) {
      since = updatedAt;
    } else {
      since = before.eligibleAt;
    }
    if (java.util.Objects.equals(since, eligibleAt)) {
      return this;
    }
    return new Instance(
        id,
        service,
        host,
        port,
        weight,
        metadata,
        ttlSeconds,
        status,
        source,
        member,
        registeredAt,
        updatedAt,
        lastHeartbeatAt,
        drainUntil,
        since,
        revision);
  }

  public JsonObject toJson() {
    JsonObject json =
        new JsonObject()
            .put("id", id)
            .put("service", service)
            .put("host", host)
            .put("port", port)
            .put("weight", weight)
            .put("metadata", new JsonObject(Map.copyOf(metadata)));
    if (ttlSeconds != null) {
      json.put("ttlSeconds", ttlSeconds);
    }
    json.put("status", status.json()).put("source", source);
    if (member != null) {
      json.put("member", member);
    }
    json.put("registeredAt", registeredAt.toString())
        .put("updatedAt", updatedAt.toString())
        .put("lastHeartbeatAt", lastHeartbeatAt.toString());
    if (drainUntil != null) {
      json.put("drainUntil", drainUntil.toString());
    }
    if (eligibleAt != null) {
      json.put("eligibleAt", eligibleAt.toString());
    }
    return json.put("revision", revision);
  }

  /** Reads an instance as {@link #toJson()} wrote it (trusted input). */
  public static Instance fromJson(JsonObject json) {
    JsonObject metadata = json.getJsonObject("metadata", new JsonObject());
    Map<String, String> labels = new java.util.LinkedHashMap<>();
    metadata.forEach(e -> labels.put(e.getKey(), String.valueOf(e.getValue())));
    String drain = json.getString("drainUntil");
    String eligible = json.getString("eligibleAt");
    return new Instance(
        json.getString("id"),
        json.getString("service"),
        json.getString("host"),
        json.getInteger("port"),
        json.getInteger("weight", DEFAULT_WEIGHT),
        labels,
        json.getInteger("ttlSeconds"),
        InstanceStatus.fromJson(json.getString("status")),
        json.getString("source"),
        json.getString("member"),
        Instant.parse(json.getString("registeredAt")),
        Instant.parse(json.getString("updatedAt")),
        Instant.parse(json.getString("lastHeartbeatAt")),
        drain == null ? null : Instant.parse(drain),
        eligible == null ? null : Instant.parse(eligible),
        json.getLong("revision", 0L));
  }
}
