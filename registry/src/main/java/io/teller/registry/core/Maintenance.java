package io.teller.registry.core;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import io.teller.common.model.Instance;
import io.teller.common.model.InstanceStatus;
import io.teller.common.model.Service;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Looks after the instances whose primary copy this registry node holds (Hazelcast spreads them
 * over the registry nodes, and hands a dead node's share to the survivors): removes those whose TTL
 * ran out, whose drain time is over, or whose registering member left the cluster. Runs every
 * {@value #PERIOD_MS} ms and at once when a member leaves; the removal itself is a write through
 * the leader, which checks the reason again.
 */
public final class Maintenance {

  static final long PERIOD_MS = 500;
  private static final Logger LOG = LoggerFactory.getLogger("teller.registry");

  private final Vertx vertx;
  private final RegistryService registry;
  private final Clock clock;
  private final BiConsumer<List<Instance>, Map<String, Service>> ownedListener;
  private long timer = -1;
  private boolean running;
  private boolean again;
  private boolean stopped;
  private UUID listenerId;

  /**
   * @param ownedListener told, after each scan on the event loop, the instances this node holds and
   *     their services (the health checker probes those)
   */
  public Maintenance(
      Vertx vertx,
      RegistryService registry,
      Clock clock,
      BiConsumer<List<Instance>, Map<String, Service>> ownedListener) {
    this.vertx = vertx;
    this.registry = registry;
    this.clock = clock;
    this.ownedListener = ownedListener;
  }

  /** Starts the periodic scan; call on the verticle's event loop. */
  public void start() {
    timer = vertx.setPeriodic(PERIOD_MS, t -> scan());
    var context = vertx.getOrCreateContext();
    listenerId =
        registry
            .store()
            .hazelcast()
            .getCluster()
            .addMembershipListener(
                new MembershipListener() {
                  @Override
                  public void memberAdded(MembershipEvent event) {}

                  @Override
                  public void memberRemoved(MembershipEvent event) {
                    context.runOnContext(v -> scan());
                  }
                });
  }

  /**
   * Stops the scan; lets go of Hazelcast's listeners on a worker thread (they are cluster calls).
   */
  public Future<Void> stop() {
    stopped = true;
    vertx.cancelTimer(timer);
    UUID membership = listenerId;
    listenerId = null;
    return vertx.executeBlocking(
        () -> {
          registry.store().stopLocalInstances();
          if (membership != null) {
            try {
              registry.store().hazelcast().getCluster().removeMembershipListener(membership);
            } catch (RuntimeException e) {
              // Hazelcast is already shutting down.
            }
          }
          return null;
        });
  }

  private void scan() {
    if (stopped) {
      return;
    }
    if (running) {
      again = true;
      return;
    }
    running = true;
    vertx
        .executeBlocking(
            () -> {
              List<Instance> owned = registry.store().localInstances();
              Map<String, Service> services =
                  registry.store().services().stream()
                      .collect(Collectors.toMap(Service::name, s -> s, (a, b) -> a, HashMap::new));
              Set<String> members =
                  registry.store().hazelcast().getCluster().getMembers().stream()
                      .map(Member::getUuid)
                      .map(UUID::toString)
                      .collect(Collectors.toSet());
              return new Scan(owned, services, members);
            },
            false)
        .compose(this::act)
        .onComplete(
            done -> {
              if (done.failed()) {
                LOG.debug("maintenance scan failed: {}", done.cause().toString());
              }
              running = false;
              if (again) {
                again = false;
                scan();
              }
            });
  }

  private record Scan(List<Instance> owned, Map<String, Service> services, Set<String> members) {}

  private Future<Void> act(Scan scan) {
    Instant now = clock.instant();
    ownedListener.accept(scan.owned(), scan.services());
    List<Future<Boolean>> removals = new java.util.ArrayList<>();
    for (Instance instance : scan.owned()) {
      if (instance.expired(now)) {
        removals.add(remove(instance, WriteCommand.Removal.EXPIRED));
      } else if (instance.status() == InstanceStatus.DRAINING
          && instance.drainUntil() != null
          && !instance.drainUntil().isAfter(now)) {
        removals.add(remove(instance, WriteCommand.Removal.DRAINED));
      } else if (instance.member() != null && !scan.members().contains(instance.member())) {
        removals.add(remove(instance, WriteCommand.Removal.MEMBER_LEFT));
      }
    }
    return Future.join(removals).mapEmpty();
  }

  private Future<Boolean> remove(Instance instance, WriteCommand.Removal reason) {
    String member = reason == WriteCommand.Removal.MEMBER_LEFT ? instance.member() : null;
    return registry
        .write(new WriteCommand.RemoveIf(instance.id(), reason, member))
        .map(WriteReply.Removed::removed);
  }
}
