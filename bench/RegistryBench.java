import io.teller.common.cluster.ClusterOptions;
import io.teller.common.cluster.ClusterRole;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.model.Change;
import io.teller.common.model.RegistryContract;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Registry load benchmark (run by bench/registry.sh): registers 10,000 instances across 1,000
 * services over REST with a fixed number of requests in flight, then measures, one write at a
 * time, how long a REST write takes to reach an event-bus subscriber on another node (this JVM,
 * a lite member). Prints figures; asserts nothing.
 */
public class RegistryBench {

  public static void main(String[] args) throws Exception {
    String host = "127.0.0.1";
    int apiPort = Integer.parseInt(args[0]);
    String token = args[1];
    String cluster = args[2];
    String members = args[3];
    int instances = Integer.parseInt(args.length > 4 ? args[4] : "10000");
    int services = Integer.parseInt(args.length > 5 ? args[5] : "1000");
    int inFlight = Integer.parseInt(args.length > 6 ? args[6] : "32");
    long registryPid = Long.parseLong(args.length > 7 ? args[7] : "0");

    TellerCluster node = TellerCluster.join(new ClusterOptions(cluster, List.of(members.split(",")),
            host, 0 == 0 ? freePort() : 0, ClusterRole.LITE))
        .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    Vertx vertx = node.vertx();
    Map<Long, Long> arrivals = new ConcurrentHashMap<>();
    vertx.eventBus().<JsonObject>consumer(RegistryContract.CHANGES, m ->
        arrivals.put(Change.fromJson(m.body()).revision(), System.nanoTime()))
        .completion().toCompletionStage().toCompletableFuture().get();
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(inFlight));

    // Warm-up: 500 registrations, not counted.
    run(client, host, apiPort, token, 500, 50, "warmup", inFlight);

    long[] latencies = new long[instances];
    long[] cpuBefore = cpuTicks(registryPid);
    long start = System.nanoTime();
    run(client, host, apiPort, token, instances, services, "svc", inFlight, latencies);
    double seconds = (System.nanoTime() - start) / 1e9;
    long[] cpuAfter = cpuTicks(registryPid);
    Arrays.sort(latencies);
    System.out.printf("registrations: %d across %d services in %.2f s = %.0f/s with %d in flight; "
            + "latency p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
        instances, services, seconds, instances / seconds, inFlight,
        latencies[instances / 2] / 1e6, latencies[(int) (instances * 0.99)] / 1e6, latencies[instances - 1] / 1e6);
    if (registryPid > 0) {
      // Clock ticks of 10 ms (USER_HZ 100) over the run: cores used, and CPU per registration.
      double registry = (cpuAfter[0] - cpuBefore[0]) / 100.0;
      double bench = (cpuAfter[1] - cpuBefore[1]) / 100.0;
      double machine = (cpuAfter[2] - cpuBefore[2]) / 100.0;
      System.out.printf("CPU during the run: registry %.2f cores (%.0f us per registration), this"
              + " client %.2f cores, machine %.2f of %d cores busy%n",
          registry / seconds, registry / instances * 1e6, bench / seconds, machine / seconds,
          Runtime.getRuntime().availableProcessors());
    }

    // Propagation: one write at a time, from sending the request to the change arriving here.
    // The writes are chained on an event loop: a Vert.x client is meant to be driven from one.
    int samples = 500;
    long[] sentAt = new long[samples];
    long[] revisions = new long[samples];
    Promise<Void> chained = Promise.promise();
    vertx.runOnContext(v -> writeInSequence(client, host, apiPort, token, 0, samples, sentAt, revisions, chained));
    chained.future().toCompletionStage().toCompletableFuture().get(5, TimeUnit.MINUTES);
    long[] propagation = new long[samples];
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    for (int i = 0; i < samples; i++) {
      while (!arrivals.containsKey(revisions[i]) && System.nanoTime() < deadline) {
        Thread.sleep(1);
      }
      propagation[i] = arrivals.getOrDefault(revisions[i], Long.MAX_VALUE) - sentAt[i];
    }
    Arrays.sort(propagation);
    System.out.printf("REST write -> event-bus subscriber on another node: p50 %.2f ms, p99 %.2f ms (%d writes, one at a time)%n",
        propagation[samples / 2] / 1e6, propagation[(int) (samples * 0.99)] / 1e6, samples);
    node.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  static void writeInSequence(HttpClient client, String host, int port, String token, int i, int samples,
      long[] sentAt, long[] revisions, Promise<Void> done) {
    if (i == samples) {
      done.complete();
      return;
    }
    sentAt[i] = System.nanoTime();
    post(client, host, port, token, "/v1/services/prop/instances",
        new JsonObject().put("host", "10.1." + (i / 250) + "." + (i % 250 + 1)).put("port", 20000 + i))
        .onSuccess(reply -> {
          revisions[i] = reply.getLong("revision");
          writeInSequence(client, host, port, token, i + 1, samples, sentAt, revisions, done);
        })
        .onFailure(done::fail);
  }

  static void run(HttpClient client, String host, int port, String token, int count, int services,
      String prefix, int inFlight) throws Exception {
    run(client, host, port, token, count, services, prefix, inFlight, new long[count]);
  }

  static void run(HttpClient client, String host, int port, String token, int count, int services,
      String prefix, int inFlight, long[] latencies) throws Exception {
    AtomicInteger next = new AtomicInteger();
    AtomicInteger failures = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(count);
    Runnable[] worker = new Runnable[1];
    worker[0] = () -> {
      int i = next.getAndIncrement();
      if (i >= count) {
        return;
      }
      String service = prefix + "-" + (i % services);
      JsonObject body = new JsonObject().put("host", "10." + (i / 65536) + "." + (i / 256 % 256) + "." + (i % 256))
          .put("port", 8000 + i % 1000);
      long sent = System.nanoTime();
      post(client, host, port, token, "/v1/services/" + service + "/instances", body).onComplete(r -> {
        latencies[i] = System.nanoTime() - sent;
        if (r.failed()) {
          failures.incrementAndGet();
        }
        done.countDown();
        worker[0].run();
      });
    };
    for (int k = 0; k < inFlight; k++) {
      worker[0].run();
    }
    done.await(10, TimeUnit.MINUTES);
    if (failures.get() > 0) {
      System.out.println(prefix + ": " + failures.get() + " failed registrations");
    }
  }

  static Future<JsonObject> post(HttpClient client, String host, int port, String token, String path, JsonObject body) {
    return client.request(new RequestOptions().setMethod(HttpMethod.POST).setHost(host).setPort(port).setURI(path)
            .setIdleTimeout(5_000)
            .putHeader("authorization", "Bearer " + token).putHeader("content-type", "application/json"))
        .compose(req -> req.send(body.toBuffer()))
        .compose(resp -> resp.body().map(b -> {
          if (resp.statusCode() >= 300) {
            throw new IllegalStateException(resp.statusCode() + " " + b);
          }
          return b.toJsonObject();
        }));
  }

  /** utime+stime of the registry and of this process, and the machine's busy time, in ticks. */
  static long[] cpuTicks(long registryPid) throws Exception {
    if (registryPid <= 0) {
      return new long[3];
    }
    String[] machine = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/stat")).get(0)
        .trim().split("\\s+");
    long busy = 0;
    for (int i = 1; i < machine.length; i++) {
      if (i != 4 && i != 5) { // idle, iowait
        busy += Long.parseLong(machine[i]);
      }
    }
    return new long[] {processTicks(registryPid), processTicks(ProcessHandle.current().pid()), busy};
  }

  static long processTicks(long pid) throws Exception {
    String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime
  }

  static int freePort() throws Exception {
    try (var s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
