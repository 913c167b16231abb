package io.teller.registry.core;

import io.teller.common.model.Instance;
import io.teller.common.model.Service;

/** What a {@link WriteCommand} did, one record per kind of command. */
public sealed interface WriteReply {

  /** The service as stored; {@code created} when it did not exist before. */
  record ServiceStored(Service service, boolean created) implements WriteReply {}

  /** The service and its instances are gone. */
  record ServiceDeleted() implements WriteReply {}

  /** The instance as stored; {@code created} when that address was new to the service. */
  record InstanceStored(Instance instance, boolean created) implements WriteReply {}

  /** The instance, draining, or as it was when {@code removed} at once. */
  record Deregistered(Instance instance, boolean removed) implements WriteReply {}

  /** Whether the status changed. */
  record StatusSet(boolean changed) implements WriteReply {}

  /** The instance as it is now; {@code changed} when its weight was another. */
  record WeightSet(Instance instance, boolean changed) implements WriteReply {}

  /** Whether the instance was removed (the reason still held). */
  record Removed(boolean removed) implements WriteReply {}

  /**
   * The cluster run's incarnation, and how many services and instances of the offered copy were
   * taken in.
   */
  record CopyMerged(long incarnation, int services, int instances) implements WriteReply {}
}
