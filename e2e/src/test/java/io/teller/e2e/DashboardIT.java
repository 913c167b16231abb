package io.teller.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.common.testing.OnContext;
import io.teller.common.testing.Poll;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live dashboard in a real browser (headless Chromium) against real processes: a registry, two
 * balancers and two backends. Traffic through the balancers must show on the page within 2 s: the
 * instances, non-zero rates, and in-flight figures equal to what the balancers' {@code /counts} say
 * (total and each balancer's share); draining an instance from the page must show {@code draining}.
 * Measures how stale the page's figures are (a count changes at a balancer → the page shows it),
 * the page's size and load time, and saves a screenshot as {@code target/dashboard.png}.
 */
@Timeout(300)
class DashboardIT {

  private static final Logger LOG = LoggerFactory.getLogger(DashboardIT.class);
  private static final Duration WITHIN = Duration.ofSeconds(2);
  private static final int SLOW_MS = 25_000;

  @TempDir static Path dir;
  static LocalStack stack;
  static List<LocalStack.Balancer> balancers = new ArrayList<>();
  static Vertx vertx;
  static HttpClient client;
  static Browser browser;
  static String missing;

  @BeforeAll
  static void start() throws Exception {
    // First, so that a machine without Chromium starts no process.
    missing = Browser.missing();
    if (missing != null) {
      LOG.warn("DashboardIT skipped: {}", missing);
      return;
    }
    browser = Browser.start(1500, 640);
    stack = new LocalStack(dir);
    stack.startRegistry();
    assertThat(
            Http.put(
                stack.registryUrl("/v1/services/shop"),
                LocalStack.TOKEN,
                new JsonObject()
                    .put("routes", List.of(Map.of("pathPrefix", "/")))
                    .put("strategy", "least-connections")
                    .put("drainTimeoutMs", 60_000)))
        .isEqualTo(201);
    List<LocalStack.Backend> backends = new ArrayList<>();
    for (int i = 1; i <= 2; i++) {
      balancers.add(stack.startBalancer("balancer-" + i, Map.of("TELLER_PROXY_INSTANCES", "1")));
      backends.add(stack.startBackend("backend-" + i, Map.of("TELLER_SERVICE", "shop")));
    }
    // A second service on the same backends carries steady background traffic, so that the page
    // (and its screenshot) is alive while the shop's in-flight counts stay still to be compared.
    assertThat(
            Http.put(
                stack.registryUrl("/v1/services/catalog"),
                LocalStack.TOKEN,
                new JsonObject()
                    .put("routes", List.of(Map.of("pathPrefix", "/catalog")))
                    .put("stripPrefix", true)
                    .put("strategy", "round-robin")))
        .isEqualTo(201);
    for (LocalStack.Backend backend : backends) {
      Http.post(
          stack.registryUrl("/v1/services/catalog/instances"),
          LocalStack.TOKEN,
          new JsonObject().put("host", "127.0.0.1").put("port", backend.port()));
    }
    vertx = Vertx.vertx();
    PemTrustOptions trust = new PemTrustOptions();
    for (int i = 1; i <= 2; i++) {
      trust.addCertPath(stack.certificateOf("balancer-" + i).toString());
    }
    client =
        vertx.createHttpClient(
            new HttpClientOptions().setSsl(true).setTrustOptions(trust).setKeepAlive(true),
            new PoolOptions().setHttp1MaxSize(32));
    Poll.until(
        Duration.ofSeconds(30),
        () -> {
          for (LocalStack.Balancer b : balancers) {
            assertThat(get(b, "/work?ms=0")).isEqualTo(200);
            assertThat(get(b, "/catalog/work?ms=0")).isEqualTo(200);
            assertThat(counts(b).getJsonObject("instances").size()).isEqualTo(4);
          }
        });
  }

  @AfterAll
  static void stop() throws Exception {
    if (browser != null) {
      browser.close();
    }
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void theDashboardShowsTheClusterLiveAndDrainsFromThePage() throws Exception {
    Assumptions.assumeTrue(missing == null, () -> "skipped: " + missing);
    startBackgroundTraffic();
    // Load: what a person waits for, and what travels.
    long opened = System.nanoTime();
    browser.driver().get(stack.registryUrl("/dashboard"));
    Poll.until(Duration.ofSeconds(10), () -> assertThat(instanceRows()).hasSize(4));
    long shownMillis = (System.nanoTime() - opened) / 1_000_000;
    Map<String, Object> timing =
        browser.script(
            "const nav = performance.getEntriesByType('navigation')[0];"
                + "const files = performance.getEntriesByType('resource')"
                + "  .filter(r => !r.name.endsWith('/stream'));"
                + "const first = performance.getEntriesByName('teller-first-render')[0];"
                + "return {load: nav.loadEventEnd, firstRender: first ? first.startTime : -1,"
                + "  html: nav.encodedBodySize,"
                + "  files: files.reduce((n, r) => n + r.encodedBodySize, 0),"
                + "  count: files.length + 1};");
    LOG.info(
        "dashboard: {} files, {} bytes (HTML {} B); load event at {} ms, figures on screen at {} ms"
            + " ({} ms as the test saw it)",
        timing.get("count"),
        ((Number) timing.get("files")).longValue() + ((Number) timing.get("html")).longValue(),
        timing.get("html"),
        Math.round(((Number) timing.get("load")).doubleValue()),
        Math.round(((Number) timing.get("firstRender")).doubleValue()),
        shownMillis);

    // Rates: the set-up's requests are over (the shop shows 0), then a bounded burst through the
    // first balancer.
    Poll.until(
        Duration.ofSeconds(5),
        () ->
            assertThat(shopRows())
                .allSatisfy(row -> assertThat(((Number) row.get("rps")).doubleValue()).isZero()));
    LocalStack.Balancer first = balancers.get(0);
    long burstStart = System.nanoTime();
    List<Future<Integer>> burst = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      burst.add(getAsync(first, "/work?ms=5"));
    }
    Future.all(burst).toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    Poll.until(
        WITHIN,
        () ->
            assertThat(shopRows())
                .anySatisfy(
                    row -> assertThat(((Number) row.get("rps")).doubleValue()).isGreaterThan(0.0)));
    LOG.info(
        "non-zero rates on the page {} ms after the burst started",
        (System.nanoTime() - burstStart) / 1_000_000);

    // In flight: slow requests held open, one at a time, alternating balancers. Each change at a
    // balancer must reach the page within 2 s; the delay is measured for each.
    List<Long> delays = new ArrayList<>();
    List<Future<Integer>> slow = new ArrayList<>();
    for (int round = 1; round <= 6; round++) {
      LocalStack.Balancer b = balancers.get(round % 2);
      long before = localTotal(b);
      slow.add(getAsync(b, "/work?ms=" + SLOW_MS));
      // The moment the balancer counts it (its /counts, polled tightly)...
      long changed = awaitNanos(Duration.ofSeconds(5), () -> localTotal(b) == before + 1);
      long expected = round;
      // ... to the moment the page shows it.
      long shown = awaitNanos(WITHIN, () -> pageTotal() == expected);
      delays.add((shown - changed) / 1_000_000);
    }
    LOG.info("in-flight change at a balancer -> shown on the page: {} ms", delays);

    for (LocalStack.Balancer b : balancers) {
      // The in-flight push between balancers keeps its bound with the traffic reports on.
      LOG.info(
          "balancer {}: peers' counts were {} ms old on arrival",
          counts(b).getString("member").substring(0, 8),
          counts(b).getJsonObject("peerStalenessMillis").encode());
    }
    // The page's figures are the balancers' /counts: per instance, total and each one's share.
    Poll.until(WITHIN, () -> assertThat(pageInFlight()).isEqualTo(balancerCounts()));
    assertThat(pageTotal()).isEqualTo(6);

    // Drain from the page: enter the token once, then two clicks on "drain".
    browser.driver().findElement(By.id("token-button")).click();
    browser.driver().findElement(By.id("token-input")).sendKeys(LocalStack.TOKEN);
    browser.driver().findElement(By.cssSelector("#token-form button[type=submit]")).click();
    String victim = (String) shopRows().get(0).get("id");
    WebElement drain =
        browser
            .driver()
            .findElement(By.cssSelector(".row.instance[data-id='" + victim + "'] button.drain"));
    drain.click(); // arms
    drain.click(); // drains
    long drained = System.nanoTime();
    Poll.until(
        WITHIN,
        () ->
            assertThat(shopRows())
                .filteredOn(row -> victim.equals(row.get("id")))
                .singleElement()
                .satisfies(row -> assertThat(row.get("status")).isEqualTo("draining")));
    LOG.info(
        "drained from the page: 'draining' shown after {} ms",
        (System.nanoTime() - drained) / 1_000_000);
    JsonObject instance = Http.getJson(stack.registryUrl("/v1/services/shop/instances/" + victim));
    assertThat(instance.getString("status")).isEqualTo("draining");

    // A weight from the page: click it, type, Enter.
    String heavier =
        (String)
            shopRows().stream()
                .filter(row -> !victim.equals(row.get("id")))
                .findFirst()
                .orElseThrow()
                .get("id");
    String heavierRow = ".row.instance[data-id='" + heavier + "'] ";
    browser.driver().findElement(By.cssSelector(heavierRow + "button.weight")).click();
    WebElement weight =
        browser.driver().findElement(By.cssSelector(heavierRow + "input.weight-edit"));
    // Typed over the selected value (WebDriver's clear() would blur the field, which cancels).
    weight.sendKeys(Keys.chord(Keys.CONTROL, "a"), "3", Keys.ENTER);
    Poll.until(
        WITHIN,
        () ->
            assertThat(
                    browser
                        .driver()
                        .findElement(By.cssSelector(heavierRow + "button.weight"))
                        .getText())
                .isEqualTo("3"));
    assertThat(
            Http.getJson(stack.registryUrl("/v1/services/shop/instances/" + heavier))
                .getInteger("weight"))
        .isEqualTo(3);

    // ./teller status reads the same figures from the REST API, as a table.
    String table = tellerStatus();
    LOG.info("./teller status:\n{}", table);
    Map<String, Map<String, Object>> counts = balancerCounts();
    for (Map<String, Object> row : shopRows()) {
      String id = (String) row.get("id");
      String line =
          table
              .lines()
              .filter(l -> l.contains(id))
              .findFirst()
              .orElseThrow(() -> new AssertionError(id + " not in the table"));
      assertThat(line).contains(id.equals(victim) ? "draining" : "healthy");
      long total = counts.get(id).values().stream().mapToLong(n -> (Long) n).sum();
      // The balancer columns, then the total: each balancer's share as its /counts says.
      List<String> cells = List.of(line.trim().split("\\s+"));
      int shares = cells.indexOf(id.equals(victim) ? "draining" : "healthy") + 2;
      assertThat(cells.get(shares - 1)).isEqualTo(id.equals(heavier) ? "3" : "1");
      for (int k = 0; k < balancers.size(); k++) {
        String member = counts(balancers.get(k)).getString("member");
        long expected = ((Long) counts.get(id).getOrDefault(member, 0L));
        int column = memberColumn(table, member);
        assertThat(Long.parseLong(cells.get(shares + column)))
            .as(id + " at " + member)
            .isEqualTo(expected);
      }
      assertThat(Long.parseLong(cells.get(shares + balancers.size()))).isEqualTo(total);
    }

    Path shot = Path.of("target", "dashboard.png");
    Files.createDirectories(shot.getParent());
    Files.write(shot, browser.driver().getScreenshotAs(OutputType.BYTES));
    LOG.info("screenshot: {}", shot.toAbsolutePath());
  }

  /**
   * Requests to the catalog service, about 20 a second through each balancer, until the test ends
   * (at most 2 minutes).
   */
  private static void startBackgroundTraffic() {
    long until = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    vertx.setPeriodic(
        50,
        t -> {
          if (System.nanoTime() > until) {
            vertx.cancelTimer(t);
            return;
          }
          balancers.forEach(b -> getAsync(b, "/catalog/work?ms=3"));
        });
  }

  /** Runs {@code ./teller status} against this stack's registry; returns what it printed. */
  private static String tellerStatus() throws Exception {
    Path root = Path.of(System.getProperty("teller.root", "..")).toAbsolutePath().normalize();
    ProcessBuilder builder =
        new ProcessBuilder("bash", root.resolve("teller").toString(), "status")
            .redirectErrorStream(true);
    builder.environment().put("TELLER_REGISTRY_URL", stack.registryUrl(""));
    builder.environment().put("TELLER_DATA_DIR", dir.resolve("cli").toString());
    long started = System.nanoTime();
    Process process = builder.start();
    String out =
        new String(
            process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    LOG.info("./teller status took {} ms", (System.nanoTime() - started) / 1_000_000);
    assertThat(process.exitValue()).as(out).isZero();
    return out;
  }

  /** Which balancer column (0, 1...) of the status table is {@code member}'s. */
  private static int memberColumn(String table, String member) {
    String header =
        table.lines().filter(l -> l.startsWith("SERVICE / INSTANCE")).findFirst().orElseThrow();
    List<String> columns =
        List.of(header.split("\\s+")).stream().filter(c -> c.startsWith("FLIGHT@")).toList();
    return columns.indexOf("FLIGHT@" + member.substring(0, 8));
  }

  /** The shop's instance rows on screen (the catalog's carry the background traffic). */
  private static List<Map<String, Object>> shopRows() {
    return instanceRows().stream()
        .filter(row -> ((String) row.get("id")).startsWith("shop-"))
        .toList();
  }

  /** The instance rows on screen: id, status, rps, inFlight, byBalancer. */
  private static List<Map<String, Object>> instanceRows() {
    return browser.script(
        "return Array.from(document.querySelectorAll('.row.instance:not([hidden])'))"
            + ".map(r => ({id: r.dataset.id, status: r.dataset.status,"
            + "  rps: Number(r.querySelector('.c-rps').dataset.rps),"
            + "  inFlight: Number(r.querySelector('.c-inflight').dataset.inflight),"
            + "  byBalancer: r.querySelector('.c-inflight').dataset.byBalancer}));");
  }

  private static long pageTotal() {
    return shopRows().stream().mapToLong(r -> ((Number) r.get("inFlight")).longValue()).sum();
  }

  /** Per instance id: each balancer's share as the page shows it (those above 0). */
  private static Map<String, Map<String, Object>> pageInFlight() {
    Map<String, Map<String, Object>> byInstance = new HashMap<>();
    for (Map<String, Object> row : shopRows()) {
      Map<String, Object> shares = new JsonObject((String) row.get("byBalancer")).getMap();
      Map<String, Object> longs = new HashMap<>();
      shares.forEach((member, n) -> longs.put(member, ((Number) n).longValue()));
      if (!longs.isEmpty()) {
        byInstance.put((String) row.get("id"), longs);
      }
    }
    return byInstance;
  }

  /** Per instance id: each balancer's own count as its {@code /counts} says (those above 0). */
  private static Map<String, Map<String, Object>> balancerCounts() {
    Map<String, Map<String, Object>> byInstance = new HashMap<>();
    for (LocalStack.Balancer b : balancers) {
      JsonObject counts = counts(b);
      String member = counts.getString("member");
      counts
          .getJsonObject("instances")
          .forEach(
              e -> {
                long local = ((JsonObject) e.getValue()).getLong("local");
                if (local > 0 && e.getKey().startsWith("shop-")) {
                  byInstance.computeIfAbsent(e.getKey(), k -> new HashMap<>()).put(member, local);
                }
              });
    }
    return byInstance;
  }

  private static long localTotal(LocalStack.Balancer b) {
    long total = 0;
    for (Map.Entry<String, Object> e : counts(b).getJsonObject("instances")) {
      if (e.getKey().startsWith("shop-")) {
        total += ((JsonObject) e.getValue()).getLong("local");
      }
    }
    return total;
  }

  private static JsonObject counts(LocalStack.Balancer b) {
    return Http.getJson("http://127.0.0.1:" + b.adminPort() + "/counts");
  }

  /** Polls {@code condition} every few ms; returns System.nanoTime() when it first held. */
  private static long awaitNanos(Duration within, java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      if (condition.getAsBoolean()) {
        return System.nanoTime();
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + within.toMillis() + " ms");
      }
      Thread.sleep(5); // a poll's pace, not a wait for something
    }
  }

  private static Future<Integer> getAsync(LocalStack.Balancer b, String uri) {
    return OnContext.run(
        vertx,
        () ->
            client
                .request(
                    new RequestOptions()
                        .setHost("127.0.0.1")
                        .setPort(b.httpsPort())
                        .setURI(uri)
                        .setIdleTimeout(60_000))
                .compose(r -> r.send())
                .compose(r -> r.body().map(x -> r.statusCode())));
  }

  private static int get(LocalStack.Balancer b, String uri) throws Exception {
    return getAsync(b, uri).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
