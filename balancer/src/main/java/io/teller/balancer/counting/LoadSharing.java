package io.teller.balancer.counting;

import com.hazelcast.core.HazelcastInstance;
import io.teller.balancer.strategy.LoadCounts;
import io.teller.common.load.LoadBoard;
import io.teller.common.load.LoadFeed;
import io.teller.common.load.LoadReport;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Least-connection counts shared between balancers, with bounded staleness (DESIGN decision 3):
 * this balancer counts its own requests exactly ({@link InFlight}) and publishes the counts that
 * changed at most every {@code delayMillis}, coalesced, on the event bus; it keeps every peer's
 * latest counts in a {@link LoadBoard}. A pick reads its own exact count plus the peers' latest —
 * no network call on the request path. A peer that leaves the cluster is forgotten on the
 * member-removed event; one that joins says hello and gets everyone's full counts at once.
 */
public final class LoadSharing implements LoadCounts {

  private static final int STALENESS_SAMPLES = 8192;

  private final Vertx vertx;
  private final InFlight local;
  private final Supplier<String> member;
  private final HazelcastInstance hazelcast;
  private final long delayMillis;
  private final LoadBoard board = new LoadBoard();
  private final Map<String, Long> lastSent = new HashMap<>();
  private final long[] staleness = new long[STALENESS_SAMPLES];
  private int stalenessCount;
  private long sequence;
  private long sentVersion = -1;
  private boolean fullNeeded = true;
  private long timer = -1;
  private LoadFeed feed;

  public LoadSharing(
      Vertx vertx,
      InFlight local,
      Supplier<String> member,
      HazelcastInstance hazelcast,
      long delayMillis) {
    this.vertx = vertx;
    this.local = local;
    this.member = member;
    this.hazelcast = hazelcast;
    this.delayMillis = delayMillis;
  }

  /** Starts sharing; call on the event loop that will own the board. */
  public Future<Void> start() {
    feed =
        new LoadFeed(
            vertx,
            hazelcast,
            member,
            board,
            report -> sample(System.currentTimeMillis() - report.oldestChangeMillis()),
            () -> fullNeeded = true);
    return feed.start().onSuccess(v -> timer = vertx.setPeriodic(delayMillis, t -> flush()));
  }

  public Future<Void> stop() {
    vertx.cancelTimer(timer);
    return feed == null ? Future.succeededFuture() : feed.stop();
  }

  @Override
  public long inFlight(String endpointId) {
    // A lone balancer pays nothing for sharing on the request path.
    return board.isEmpty()
        ? local.inFlight(endpointId)
        : local.inFlight(endpointId) + board.total(endpointId);
  }

  /** This balancer's own exact counts. */
  public InFlight local() {
    return local;
  }

  /** The peers' latest counts. */
  public LoadBoard board() {
    return board;
  }

  /** Publishes what changed since the last report (or everything, when a peer asked). */
  void flush() {
    long version = local.version();
    if (version == sentVersion && !fullNeeded) {
      return;
    }
    long oldest = local.takeOldestUnshared();
    Map<String, Long> now = local.snapshot();
    Map<String, Long> report = new HashMap<>();
    if (fullNeeded) {
      now.forEach(
          (id, count) -> {
            if (count > 0) {
              report.put(id, count);
            }
          });
    } else {
      now.forEach(
          (id, count) -> {
            if (!count.equals(lastSent.getOrDefault(id, 0L))) {
              report.put(id, count);
            }
          });
    }
    boolean full = fullNeeded;
    fullNeeded = false;
    sentVersion = version;
    lastSent.clear();
    now.forEach(
        (id, count) -> {
          if (count > 0) {
            lastSent.put(id, count);
          }
        });
    if (report.isEmpty() && !full) {
      return;
    }
    vertx
        .eventBus()
        .publish(
            LoadReport.ADDRESS,
            new LoadReport(
                    member.get(),
                    ++sequence,
                    full,
                    report,
                    oldest == 0 ? System.currentTimeMillis() : oldest)
                .toJson());
  }

  private void sample(long millis) {
    staleness[stalenessCount % STALENESS_SAMPLES] = Math.max(0, millis);
    stalenessCount++;
  }

  /** How old peers' counts were when they arrived (ms): p50 and p99 of the last samples. */
  public JsonObject stalenessMillis() {
    int n = Math.min(stalenessCount, STALENESS_SAMPLES);
    long[] copy = Arrays.copyOf(staleness, n);
    Arrays.sort(copy);
    return new JsonObject()
        .put("samples", stalenessCount)
        .put("p50", n == 0 ? null : copy[n / 2])
        .put("p99", n == 0 ? null : copy[Math.min(n - 1, (int) (n * 0.99))]);
  }
}
