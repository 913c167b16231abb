package io.teller.balancer.proxy;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One JSON line per request on the logger {@code teller.access}: off by default (a line per request
 * costs throughput), switched by the {@code access.log} setting at start and by the admin
 * listener's {@code PUT /access-log} at run time.
 */
public final class AccessLog {

  private static final Logger LOG = LoggerFactory.getLogger("teller.access");

  private volatile boolean enabled;

  public AccessLog(boolean enabled) {
    this.enabled = enabled;
  }

  public boolean enabled() {
    return enabled;
  }

  public void enable(boolean on) {
    this.enabled = on;
  }

  /**
   * One request's line, with the fields named as in the README; {@code failure} (its kind) and
   * {@code fault} (client, instance, balancer) only for a request that failed.
   */
  public record Entry(
      long startMillis,
      String client,
      String method,
      String host,
      String uri,
      String protocol,
      int status,
      String service,
      String instance,
      long bytesIn,
      long bytesOut,
      long durationMicros,
      int attempts,
      String failure,
      String fault,
      String explain) {}

  /**
   * A request refused at the edge, before it had a route: its client, status and reason, with the
   * detail the client was told. Logged when the access log is on.
   */
  public void rejected(String client, String[] statusReasonDetail) {
    if (!enabled) {
      return;
    }
    LOG.info(
        new JsonObject()
            .put("time", Instant.now().toString())
            .put("client", client)
            .put("status", Integer.parseInt(statusReasonDetail[0]))
            .put("rejected", statusReasonDetail[1])
            .put("detail", statusReasonDetail[2])
            .encode());
  }

  void log(Entry entry) {
    JsonObject line =
        new JsonObject()
            .put("time", Instant.ofEpochMilli(entry.startMillis()).toString())
            .put("client", entry.client())
            .put("method", entry.method())
            .put("host", entry.host())
            .put("uri", entry.uri())
            .put("protocol", entry.protocol())
            .put("status", entry.status())
            .put("service", entry.service())
            .put("instance", entry.instance())
            .put("bytesIn", entry.bytesIn())
            .put("bytesOut", entry.bytesOut())
            .put("durationMs", entry.durationMicros() / 1000.0)
            .put("attempts", entry.attempts());
    if (entry.failure() != null) {
      line.put("failure", entry.failure()).put("fault", entry.fault());
    }
    if (entry.explain() != null) {
      line.put("explain", entry.explain());
    }
    LOG.info(line.encode());
  }
}
