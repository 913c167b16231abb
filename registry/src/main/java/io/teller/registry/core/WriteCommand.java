package io.teller.registry.core;

import io.teller.common.model.Instance;
import io.teller.common.model.InstanceStatus;
import io.teller.common.model.Service;
import io.teller.common.model.Snapshot;

/**
 * A write to the registry's state, one record per kind, each naming the {@link WriteReply} it gets.
 * A node's API makes them from requests it has validated ({@link RegistryService#write}); the
 * leading node's {@link RegistryWriter} applies them in order and trusts them. Between nodes they
 * travel as JSON ({@link WriteCodec}).
 *
 * @param <R> the reply
 */
public sealed interface WriteCommand<R extends WriteReply> {

  /** Defines or replaces a service; its revision is the writer's to set. */
  record PutService(Service service) implements WriteCommand<WriteReply.ServiceStored> {}

  /** Removes a service and its instances; fails as not found when there is no such service. */
  record DeleteService(String name) implements WriteCommand<WriteReply.ServiceDeleted> {}

  /**
   * Registers an instance of {@code service}, or brings the one at the same address up to date; a
   * service that does not exist is created with defaults, routed on {@code routePrefix} if given.
   *
   * @param source {@link Instance#SOURCE_REST} or {@link Instance#SOURCE_EVENT_BUS}
   * @param member the cluster member registering it (the instance goes when it leaves), or null
   * @param routePrefix the route of a service this registration creates, or null for {@code
   *     /<service>}
   */
  record Register(
      String service,
      Instance.Registration registration,
      String source,
      String member,
      String routePrefix)
      implements WriteCommand<WriteReply.InstanceStored> {}

  /** Starts draining an instance, or removes it at once when {@code drain} is false. */
  record Deregister(String service, String id, boolean drain)
      implements WriteCommand<WriteReply.Deregistered> {}

  /** A health check's verdict; a draining instance keeps draining. */
  record SetStatus(String id, InstanceStatus status, String reason)
      implements WriteCommand<WriteReply.StatusSet> {}

  /**
   * Sets an instance's weight (0 to {@link Instance#MAX_WEIGHT}), keeping everything else; the
   * weight it has already changes nothing.
   */
  record SetWeight(String service, String id, int weight)
      implements WriteCommand<WriteReply.WeightSet> {}

  /**
   * Removes an instance if {@code reason} still holds when the leader gets to it.
   *
   * @param member for {@link Removal#MEMBER_LEFT}: the member that left, else null
   */
  record RemoveIf(String id, Removal reason, String member)
      implements WriteCommand<WriteReply.Removed> {}

  /**
   * Offers a registry node's copy from disk to the cluster, taken in only if the cluster was
   * restarted after the copy was written ({@link RegistryWriter}).
   *
   * @param incarnation the cluster run the copy followed
   */
  record MergeCopy(Snapshot copy, long incarnation)
      implements WriteCommand<WriteReply.CopyMerged> {}

  /** Why maintenance removes an instance. */
  enum Removal {
    /** No heartbeat came within its TTL. */
    EXPIRED("expired"),
    /** Its drain time is over. */
    DRAINED("drained"),
    /** The cluster member that registered it left. */
    MEMBER_LEFT("member-left");

    private final String json;

    Removal(String json) {
      this.json = json;
    }

    /** As in JSON and log lines. */
    public String json() {
      return json;
    }

    static Removal fromJson(String value) {
      for (Removal removal : values()) {
        if (removal.json.equals(value)) {
          return removal;
        }
      }
      throw new IllegalArgumentException("unknown removal reason " + value);
    }
  }
}
