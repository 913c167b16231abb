package io.teller.balancer.metrics;

import static io.teller.balancer.testing.BalancerHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.teller.balancer.testing.BalancerHarness;
import io.teller.common.testing.OnContext;
import io.teller.common.testing.Poll;
import io.teller.registry.testing.Http;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Grafana dashboard under {@code deploy/grafana/} queries only what a balancer really exports:
 * every metric its queries name appears in a real balancer's {@code /metrics} after traffic, and
 * every label they filter or group by is one of that metric's labels (or {@code balancer}, which
 * the scrape configuration in the README adds).
 */
@Timeout(120)
class GrafanaDashboardTest {

  private static final Path DASHBOARD = Path.of("..", "deploy", "grafana", "teller-balancers.json");

  /** Added by the scrape configuration, not by the balancer. */
  private static final Set<String> SCRAPE_LABELS = Set.of("balancer", "job");

  private static final Pattern SELECTOR =
      Pattern.compile("\\b([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*\\{([^}]*)}");
  private static final Pattern METRIC = Pattern.compile("\\b((?:teller|vertx|jvm|process)_\\w+)");
  private static final Pattern MATCHER = Pattern.compile("([a-zA-Z_]\\w*)\\s*(?:=~|!~|!=|=)");
  private static final Pattern BY = Pattern.compile("\\bby\\s*\\(([^)]*)\\)");
  private static final Pattern LABEL_VALUES =
      Pattern.compile("label_values\\(\\s*([a-zA-Z_:]\\w*)[^,]*,\\s*(\\w+)\\s*\\)");

  @TempDir static Path dir;
  static BalancerHarness harness;
  static HttpClient client;

  @BeforeAll
  static void start() {
    harness = new BalancerHarness(dir, true);
    client =
        harness
            .backendVertx()
            .createHttpClient(
                new HttpClientOptions()
                    .setSsl(true)
                    .setTrustOptions(harness.certificates().trustOptions()));
  }

  @AfterAll
  static void stop() {
    harness.close();
  }

  @Test
  void everyQueryNamesMetricsAndLabelsTheBalancerExports() throws Exception {
    harness.defineService("grafana", "{\"routes\": [{\"pathPrefix\": \"/\"}]}");
    harness.register("grafana", harness.namedBackend("a"), 1);
    Poll.until(Duration.ofSeconds(10), () -> assertThat(get("/")).isEqualTo(200));
    Map<String, Set<String>> exported = exported(admin("/metrics"));
    assertThat(exported).containsKey("teller_requests_total");

    JsonObject dashboard = new JsonObject(Files.readString(DASHBOARD));
    List<String> queries = new ArrayList<>();
    for (Object p : dashboard.getJsonArray("panels")) {
      JsonArray targets = ((JsonObject) p).getJsonArray("targets", new JsonArray());
      targets.forEach(t -> queries.add(((JsonObject) t).getString("expr")));
    }
    assertThat(queries).hasSizeGreaterThanOrEqualTo(10);
    for (String query : queries) {
      Set<String> metrics = new HashSet<>();
      Matcher metric = METRIC.matcher(query);
      while (metric.find()) {
        metrics.add(metric.group(1));
      }
      assertThat(metrics).as("metrics in " + query).isNotEmpty();
      Set<String> labels = new HashSet<>(SCRAPE_LABELS);
      for (String name : metrics) {
        assertThat(exported).as("metric %s of %s", name, query).containsKey(name);
        labels.addAll(exported.get(name));
      }
      Matcher selector = SELECTOR.matcher(query);
      while (selector.find()) {
        Matcher matcher = MATCHER.matcher(selector.group(2));
        while (matcher.find()) {
          assertThat(exported.get(selector.group(1)))
              .as("label %s of %s in %s", matcher.group(1), selector.group(1), query)
              .contains(matcher.group(1));
        }
      }
      Matcher by = BY.matcher(query);
      while (by.find()) {
        for (String label : by.group(1).split(",")) {
          assertThat(labels).as("grouped by %s in %s", label.trim(), query).contains(label.trim());
        }
      }
    }
    for (Object v : dashboard.getJsonObject("templating").getJsonArray("list")) {
      String query = ((JsonObject) v).getString("definition");
      if (query == null) {
        continue;
      }
      Matcher values = LABEL_VALUES.matcher(query);
      assertThat(values.find()).as(query).isTrue();
      assertThat(exported).containsKey(values.group(1));
      assertThat(exported.get(values.group(1))).as(query).contains(values.group(2));
    }
  }

  /** Every sample's metric name in Prometheus text, with the label names it carries. */
  static Map<String, Set<String>> exported(String text) {
    Map<String, Set<String>> metrics = new HashMap<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int brace = line.indexOf('{');
      int space = line.indexOf(' ');
      String name = line.substring(0, brace >= 0 && brace < space ? brace : space);
      Set<String> labels = metrics.computeIfAbsent(name, n -> new HashSet<>());
      if (brace >= 0 && brace < space) {
        Matcher label =
            Pattern.compile("([a-zA-Z_]\\w*)=\"")
                .matcher(line.substring(brace, line.lastIndexOf('}')));
        while (label.find()) {
          labels.add(label.group(1));
        }
      }
    }
    return metrics;
  }

  private static String admin(String path) {
    return Http.get("http://127.0.0.1:" + harness.adminPort() + path).body();
  }

  private static int get(String uri) {
    return await(
        OnContext.run(
            harness.backendVertx(),
            () ->
                client
                    .request(
                        new RequestOptions()
                            .setHost("127.0.0.1")
                            .setPort(harness.httpsPort())
                            .setURI(uri))
                    .compose(request -> request.send())
                    .compose(response -> response.body().map(b -> response.statusCode()))));
  }
}
