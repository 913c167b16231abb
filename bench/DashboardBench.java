import io.teller.common.cluster.ClusterOptions;
import io.teller.common.cluster.ClusterRole;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.load.LatencyBuckets;
import io.teller.common.load.LoadReport;
import io.teller.common.load.TrafficReport;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the dashboard's stream costs the registry (run by bench/dashboard.sh): 1,000 instances in
 * 100 services, three balancers' reports at their real cadence (in-flight counts every 10 ms with
 * 50 changed instances each, traffic of every instance once a second), then 0, 1 and 5 dashboard
 * streams read to the end. Prints the registry process's CPU (from /proc) and the stream's bytes
 * for each phase; asserts nothing.
 *
 * <p>The three balancers are three member ids published from one lite member of this JVM: the
 * registry decodes and aggregates exactly what three balancers would send; only the cluster
 * connections are fewer.
 */
public class DashboardBench {

  static final int BALANCERS = 3;

  public static void main(String[] args) throws Exception {
    int apiPort = Integer.parseInt(args[0]);
    String token = args[1];
    String cluster = args[2];
    String members = args[3];
    long registryPid = Long.parseLong(args[4]);
    int instances = Integer.parseInt(args.length > 5 ? args[5] : "1000");
    int services = Math.max(1, instances / 10);
    int seconds = Integer.parseInt(args.length > 6 ? args[6] : "20");

    TellerCluster node =
        TellerCluster.join(
                new ClusterOptions(
                    cluster, List.of(members.split(",")), "127.0.0.1", freePort(), ClusterRole.LITE))
            .toCompletionStage()
            .toCompletableFuture()
            .get(60, TimeUnit.SECONDS);
    Vertx vertx = node.vertx();
    HttpClient http =
        vertx.createHttpClient(new HttpClientOptions(), new PoolOptions().setHttp1MaxSize(16));

    // 1,000 static instances (no health check: healthy at once).
    List<String> ids = new ArrayList<>();
    List<Future<?>> registering = new ArrayList<>();
    for (int i = 0; i < instances; i++) {
      String service = "svc-" + (i % services);
      JsonObject body = new JsonObject().put("host", "127.0.0.1").put("port", 20_000 + i);
      registering.add(
          http.request(
                  new RequestOptions()
                      .setMethod(HttpMethod.POST)
                      .setHost("127.0.0.1")
                      .setPort(apiPort)
                      .setURI("/v1/services/" + service + "/instances")
                      .putHeader("authorization", "Bearer " + token)
                      .putHeader("content-type", "application/json"))
              .compose(r -> r.send(body.encode()))
              .compose(HttpClientResponse::body)
              .onSuccess(b -> {
                synchronized (ids) {
                  ids.add(new JsonObject(b).getString("id"));
                }
              }));
      if (registering.size() >= 32) {
        get(Future.all(registering));
        registering.clear();
      }
    }
    get(Future.all(registering));
    System.out.printf("registered %d instances in %d services%n", ids.size(), services);

    Thread.sleep(5_000);
    phase("idle: no report, no dashboard", registryPid, seconds, List.of());

    // Three balancers' reports.
    Random random = new Random(42);
    List<String> balancers = new ArrayList<>();
    for (int b = 0; b < BALANCERS; b++) {
      balancers.add(UUID.randomUUID().toString());
    }
    long[] sequence = new long[BALANCERS];
    long[] loadSequence = new long[BALANCERS];
    vertx.setPeriodic(
        10,
        t -> {
          for (int b = 0; b < BALANCERS; b++) {
            Map<String, Long> counts = new HashMap<>();
            for (int k = 0; k < 50; k++) {
              counts.put(ids.get(random.nextInt(ids.size())), (long) random.nextInt(8));
            }
            vertx
                .eventBus()
                .publish(
                    LoadReport.ADDRESS,
                    new LoadReport(
                            balancers.get(b),
                            ++loadSequence[b],
                            false,
                            counts,
                            System.currentTimeMillis())
                        .toJson());
          }
        });
    vertx.setPeriodic(
        1_000,
        t -> {
          for (int b = 0; b < BALANCERS; b++) {
            Map<String, TrafficReport.InstanceTraffic> traffic = new HashMap<>();
            for (String id : ids) {
              long requests = 20 + random.nextInt(40);
              long[] latency = new long[12];
              for (int k = 0; k < 6; k++) {
                latency[2 * k] = LatencyBuckets.index((2_000 + k * 3_000L) * (1 + random.nextInt(3)));
                latency[2 * k + 1] = requests / 6;
              }
              traffic.put(
                  id,
                  new TrafficReport.InstanceTraffic(
                      requests, random.nextInt(3), 0, false, latency));
            }
            vertx
                .eventBus()
                .publish(
                    TrafficReport.ADDRESS,
                    new TrafficReport(
                            balancers.get(b),
                            ++sequence[b],
                            System.currentTimeMillis(),
                            1_000,
                            100,
                            traffic)
                        .toJson());
          }
        });
    Thread.sleep(15_000); // the registry's JIT warms up on the feeds

    phase("reports, no dashboard open", registryPid, seconds, List.of());
    for (int clients : new int[] {1, 5}) {
      List<AtomicLong> bytes = new ArrayList<>();
      List<HttpClientResponse> streams = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        AtomicLong read = new AtomicLong();
        HttpClientResponse response =
            get(
                http.request(
                    new RequestOptions()
                        .setHost("127.0.0.1")
                        .setPort(apiPort)
                        .setURI("/dashboard/stream"))
                .compose(r -> r.send()));
        response.handler(buffer -> read.addAndGet(buffer.length()));
        bytes.add(read);
        streams.add(response);
      }
      Thread.sleep(3_000); // past the hellos
      bytes.forEach(b -> b.set(0));
      phase("reports, " + clients + " dashboard(s) open", registryPid, seconds, bytes);
      for (HttpClientResponse response : streams) {
        response.request().connection().close();
      }
      Thread.sleep(1_000);
    }
    phase("reports, no dashboard open (again)", registryPid, seconds, List.of());
    get(node.close());
    System.exit(0);
  }

  static void phase(String name, long pid, int seconds, List<AtomicLong> bytes) throws Exception {
    long cpu0 = cpuTicks(pid);
    long t0 = System.nanoTime();
    Thread.sleep(seconds * 1_000L);
    long cpu1 = cpuTicks(pid);
    double wall = (System.nanoTime() - t0) / 1e9;
    double cpuSeconds = (cpu1 - cpu0) / 100.0; // USER_HZ
    long total = bytes.stream().mapToLong(AtomicLong::get).sum();
    System.out.printf(
        "%-36s registry CPU %5.1f%% of one core (%.2f s over %.0f s)%s%n",
        name,
        100 * cpuSeconds / wall,
        cpuSeconds,
        wall,
        bytes.isEmpty()
            ? ""
            : String.format(
                ", stream %.0f KB/s per page", total / wall / 1024 / bytes.size()));
  }

  /** utime + stime of a process, in clock ticks. */
  static long cpuTicks(long pid) throws Exception {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
  }

  static <T> T get(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  static int freePort() throws Exception {
    try (var s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
