package io.teller.registry.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.common.model.SlowStart;
import io.teller.common.testing.Poll;
import io.teller.registry.testing.Http;
import io.teller.registry.testing.Http.Response;
import io.teller.registry.testing.RegistryNodes;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** REST round trips against a real registry node (one data member). */
@Timeout(120)
class RestApiTest {

  @TempDir static Path dataDir;
  static RegistryNodes nodes;
  static RegistryNodes.Node node;

  @BeforeAll
  static void start() {
    nodes = new RegistryNodes("rest", dataDir);
    node = nodes.start();
  }

  @AfterAll
  static void stop() {
    nodes.close();
  }

  static String url(String path) {
    return node.url(path);
  }

  @Test
  void healthzSaysTheNodeRunsWithoutNamingTheCluster() {
    Response health = Http.get(url("/healthz"));
    assertThat(health.status()).isEqualTo(200);
    assertThat(health.json()).isEqualTo(new JsonObject().put("status", "UP").put("members", 1));
    assertThat(health.body()).doesNotContain(nodes.clusters().name());
  }

  @Test
  void serviceRoundTrip() {
    Response created =
        Http.put(
            url("/v1/services/shop"),
            """
        {"routes": [{"hosts": ["shop.example.com", "*.shop.example.com"], "pathPrefix": "/api",
                     "headers": {"X-Env": "beta"}, "methods": ["GET", "POST"]}],
         "stripPrefix": true, "strategy": "least-connections",
         "healthCheck": {"path": "/health", "intervalMs": 1000}}
        """);
    assertThat(created.status()).isEqualTo(201);
    assertThat(created.header("location")).isEqualTo("/v1/services/shop");
    JsonObject service = created.json();
    assertThat(service.getString("strategy")).isEqualTo("least-connections");
    assertThat(service.getJsonArray("routes").getJsonObject(0).getString("pathPrefix"))
        .isEqualTo("/api");
    assertThat(service.getJsonObject("healthCheck").getInteger("timeoutMs")).isEqualTo(1000);
    assertThat(service.getLong("revision")).isPositive();

    Response replaced = Http.put(url("/v1/services/shop"), "{\"strategy\": \"round-robin\"}");
    assertThat(replaced.status()).isEqualTo(200);
    assertThat(replaced.json().getLong("revision")).isGreaterThan(service.getLong("revision"));
    assertThat(replaced.json().getJsonArray("routes").getJsonObject(0).getString("pathPrefix"))
        .isEqualTo("/shop");

    assertThat(Http.get(url("/v1/services/shop")).json().getString("strategy"))
        .isEqualTo("round-robin");
    assertThat(
            Http.get(url("/v1/services")).array().stream()
                .map(o -> ((JsonObject) o).getString("name")))
        .contains("shop");

    assertThat(Http.delete(url("/v1/services/shop")).status()).isEqualTo(204);
    Response gone = Http.get(url("/v1/services/shop"));
    assertThat(gone.status()).isEqualTo(404);
    assertThat(gone.contentType()).isEqualTo("application/problem+json");
  }

  @Test
  void instanceRoundTripWithoutDuplicates() {
    Response first =
        Http.post(
            url("/v1/services/cart/instances"),
            "{\"host\": \"127.0.0.1\", \"port\": 8081, \"weight\": 3, \"metadata\": {\"zone\": \"a\"}}");
    assertThat(first.status()).isEqualTo(201);
    String id = first.json().getString("id");
    assertThat(first.header("location")).isEqualTo("/v1/services/cart/instances/" + id);
    assertThat(first.json().getString("status")).isEqualTo("healthy");
    assertThat(first.json().getString("source")).isEqualTo("rest");

    // The service did not exist: it was created with defaults.
    JsonObject service = Http.get(url("/v1/services/cart")).json();
    assertThat(service.getString("strategy")).isEqualTo("round-robin");
    assertThat(service.getJsonArray("routes").getJsonObject(0).getString("pathPrefix"))
        .isEqualTo("/cart");

    Response again =
        Http.post(
            url("/v1/services/cart/instances"),
            "{\"host\": \"127.0.0.1\", \"port\": 8081, \"weight\": 3, \"metadata\": {\"zone\": \"a\"}}");
    assertThat(again.status()).isEqualTo(200);
    assertThat(again.json().getString("id")).isEqualTo(id);
    assertThat(Http.get(url("/v1/services/cart/instances")).array()).hasSize(1);

    assertThat(Http.get(url("/v1/services/cart/instances/" + id)).json().getInteger("weight"))
        .isEqualTo(3);
    assertThat(
            Http.send(
                    Http.authorized(url("/v1/services/cart/instances/" + id + "/heartbeat"))
                        .PUT(HttpRequest.BodyPublishers.noBody()))
                .status())
        .isEqualTo(200);

    Response draining = Http.delete(url("/v1/services/cart/instances/" + id));
    assertThat(draining.status()).isEqualTo(200);
    assertThat(draining.json().getString("status")).isEqualTo("draining");
    assertThat(draining.json().getString("drainUntil")).isNotNull();

    assertThat(Http.delete(url("/v1/services/cart/instances/" + id + "?drain=0")).status())
        .isEqualTo(200);
    assertThat(Http.get(url("/v1/services/cart/instances/" + id)).status()).isEqualTo(404);
  }

  @Test
  void theInstanceListShowsEachInstancesSlowStartFactor() throws Exception {
    Response defined =
        Http.put(
            url("/v1/services/ramped"),
            "{\"slowStart\": {\"windowMs\": 2000, \"minWeightPercent\": 10}}");
    assertThat(defined.status()).isEqualTo(201);
    assertThat(defined.json().getJsonObject("slowStart"))
        .isEqualTo(
            new JsonObject("{\"windowMs\": 2000, \"aggression\": 1.0, \"minWeightPercent\": 10}"));
    JsonObject first =
        Http.post(url("/v1/services/ramped/instances"), "{\"host\": \"127.0.0.1\", \"port\": 8101}")
            .json();
    assertThat(first.getString("eligibleAt")).isEqualTo(first.getString("registeredAt"));
    // A newcomer is eased in only once the service is past its cold start: a window after the
    // first instance became eligible.
    long firstEligible = Instant.parse(first.getString("eligibleAt")).toEpochMilli();
    Poll.until(
        Duration.ofSeconds(5),
        () -> assertThat(System.currentTimeMillis()).isGreaterThanOrEqualTo(firstEligible + 2_000));
    JsonObject second =
        Http.post(url("/v1/services/ramped/instances"), "{\"host\": \"127.0.0.1\", \"port\": 8102}")
            .json();
    long secondEligible = Instant.parse(second.getString("eligibleAt")).toEpochMilli();

    long askedAt = System.currentTimeMillis();
    JsonArray list = Http.get(url("/v1/services/ramped/instances")).array();
    long answeredAt = System.currentTimeMillis();

    JsonObject listedFirst = byId(list, first.getString("id"));
    JsonObject listedSecond = byId(list, second.getString("id"));
    assertThat(listedFirst.getDouble("slowStartFactor")).isEqualTo(1.0);
    SlowStart slowStart = new SlowStart(2_000, 1.0, 10);
    // The factor at the moment the registry answered, between asking and getting the answer.
    assertThat(listedSecond.getDouble("slowStartFactor"))
        .isBetween(
            SlowStart.rounded(slowStart.factor(askedAt - secondEligible)),
            SlowStart.rounded(slowStart.factor(answeredAt - secondEligible)));
  }

  private static JsonObject byId(JsonArray list, String id) {
    return list.stream()
        .map(JsonObject.class::cast)
        .filter(o -> o.getString("id").equals(id))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void drainingEndsInRemovalAfterTheDrainTimeout() throws Exception {
    Http.put(url("/v1/services/drainy"), "{\"drainTimeoutMs\": 300}");
    String id =
        Http.post(url("/v1/services/drainy/instances"), "{\"host\": \"127.0.0.1\", \"port\": 9}")
            .json()
            .getString("id");
    assertThat(Http.delete(url("/v1/services/drainy/instances/" + id)).json().getString("status"))
        .isEqualTo("draining");
    assertThat(Http.get(url("/v1/services/drainy/instances/" + id)).status()).isEqualTo(200);
    Poll.until(
        Duration.ofSeconds(3),
        () ->
            assertThat(Http.get(url("/v1/services/drainy/instances/" + id)).status())
                .isEqualTo(404));
  }

  @ParameterizedTest(name = "{0} {1} -> {3}")
  @CsvSource(
      delimiter = '|',
      value = {
        "PUT  | /v1/services/Bad_Name           | {}                                         | name",
        "PUT  | /v1/services/ok                 | {\"strategy\": \"fastest\"}                | strategy",
        "PUT  | /v1/services/ok                 | {\"colour\": \"red\"}                      | colour",
        "PUT  | /v1/services/ok                 | {\"routes\": [{\"pathPrefix\": \"api\"}]}  | routes[0].pathPrefix",
        "PUT  | /v1/services/ok                 | {\"routes\": [{\"hosts\": [\"a b\"]}]}     | routes[0].hosts[0]",
        "PUT  | /v1/services/ok                 | {\"routes\": [{\"methods\": [\"get\"]}]}   | routes[0].methods[0]",
        "PUT  | /v1/services/ok                 | {\"healthCheck\": {\"intervalMs\": 5}}     | healthCheck.intervalMs",
        "PUT  | /v1/services/ok                 | {\"name\": \"other\"}                      | name",
        "PUT  | /v1/services/ok                 | {\"drainTimeoutMs\": -1}                   | drainTimeoutMs",
        "PUT  | /v1/services/ok                 | {\"tcpPort\": 0}                          | tcpPort",
        "PUT  | /v1/services/ok                 | {\"tcpPort\": 65536}                      | tcpPort",
        "PUT  | /v1/services/ok                 | {\"tcpPort\": \"5432\"}                   | tcpPort",
        "PUT  | /v1/services/ok                 | {\"slowStart\": {\"windowMs\": 10}}       | slowStart.windowMs",
        "PUT  | /v1/services/ok                 | {\"slowStart\": {\"aggression\": 0}}      | slowStart.aggression",
        "PUT  | /v1/services/ok                 | {\"slowStart\": {\"minWeightPercent\": 0}} | slowStart.minWeightPercent",
        "PUT  | /v1/services/ok                 | {\"slowStart\": {\"ramp\": 1}}            | slowStart.ramp",
        "PUT  | /v1/services/ok                 | {\"upgrades\": [\"h2c\"]}                | upgrades[0]",
        "PUT  | /v1/services/ok                 | {\"upgrades\": [\"web socket\"]}         | upgrades[0]",
        "PUT  | /v1/services/ok                 | {\"upgrades\": \"websocket\"}            | upgrades",
        "PUT  | /v1/services/ok                 | {not json                                  | body",
        "PUT  | /v1/services/ok                 | [1, 2]                                     | body",
        "POST | /v1/services/ok/instances       | {\"host\": \"h\", \"port\": 0}             | port",
        "POST | /v1/services/ok/instances       | {\"host\": \"h\", \"port\": 65536}         | port",
        "POST | /v1/services/ok/instances       | {\"host\": \"h\", \"port\": \"80\"}        | port",
        "POST | /v1/services/ok/instances       | {\"port\": 80}                             | host",
        "POST | /v1/services/ok/instances       | {\"host\": \"bad host\", \"port\": 80}     | host",
        "POST | /v1/services/ok/instances       | {\"host\": \"h\", \"port\": 80, \"weight\": 1001} | weight",
        "POST | /v1/services/ok/instances       | {\"host\": \"h\", \"port\": 80, \"weight\": -1}   | weight",
        "POST | /v1/services/ok/instances       | {\"host\": \"h\", \"port\": 80, \"ttlSeconds\": 0} | ttlSeconds",
        "POST | /v1/services/ok/instances       | {\"host\": \"h\", \"port\": 80, \"extra\": 1}     | extra",
        "POST | /v1/services/ok/instances       | {\"host\": \"h\", \"port\": 80, \"metadata\": {\"k\": 1}} | metadata.k",
        "POST | /v1/services/Not-Ok/instances   | {\"host\": \"h\", \"port\": 80}            | service",
      })
  void badInputIsA400NamingTheFieldAndChangesNothing(
      String method, String path, String body, String field) {
    String before = Http.get(url("/v1/services")).body();
    Response response =
        Http.send(
            Http.authorized(url(path)).method(method, HttpRequest.BodyPublishers.ofString(body)));
    assertThat(response.status()).isEqualTo(400);
    assertThat(response.contentType()).isEqualTo("application/problem+json");
    assertThat(response.json().getString("field")).isEqualTo(field);
    assertThat(response.json().getString("detail")).isNotBlank();
    assertThat(Http.get(url("/v1/services")).body()).isEqualTo(before);
  }

  @Test
  void aTcpPortBelongsToOneServiceAtATime() {
    Response first = Http.put(url("/v1/services/pg"), "{\"tcpPort\": 15432}");
    assertThat(first.status()).isEqualTo(201);
    assertThat(first.json().getInteger("tcpPort")).isEqualTo(15432);
    // The same service may keep its own port when it is replaced.
    assertThat(
            Http.put(
                    url("/v1/services/pg"),
                    "{\"tcpPort\": 15432, \"strategy\": \"least-connections\"}")
                .status())
        .isEqualTo(200);

    Response taken = Http.put(url("/v1/services/pg-copy"), "{\"tcpPort\": 15432}");
    assertThat(taken.status()).isEqualTo(400);
    assertThat(taken.json().getString("field")).isEqualTo("tcpPort");
    assertThat(taken.json().getString("detail")).contains("pg");
    assertThat(Http.get(url("/v1/services/pg-copy")).status()).isEqualTo(404);

    Response dropped = Http.put(url("/v1/services/pg"), "{}");
    assertThat(dropped.json().containsKey("tcpPort")).isFalse();
    assertThat(Http.put(url("/v1/services/pg-copy"), "{\"tcpPort\": 15432}").status())
        .isEqualTo(201);
    Http.delete(url("/v1/services/pg"));
    Http.delete(url("/v1/services/pg-copy"));
  }

  @Test
  void aBodyOver64KiBIsA413() {
    String before = Http.get(url("/v1/services")).body();
    String huge =
        "{\"metadata\": {\"k\": \"" + "x".repeat(70 * 1024) + "\"}, \"host\": \"h\", \"port\": 1}";
    Response response = Http.post(url("/v1/services/big/instances"), huge);
    assertThat(response.status()).isEqualTo(413);
    assertThat(response.contentType()).isEqualTo("application/problem+json");
    assertThat(Http.get(url("/v1/services")).body()).isEqualTo(before);
  }

  @Test
  void writesWithoutOrWithAWrongTokenAre401AndChangeNothing() {
    String before = Http.get(url("/v1/services")).body();
    Response none =
        Http.send(
            HttpRequest.newBuilder(URI.create(url("/v1/services/sneaky")))
                .PUT(HttpRequest.BodyPublishers.ofString("{}")));
    assertThat(none.status()).isEqualTo(401);
    assertThat(none.header("www-authenticate")).startsWith("Bearer");
    assertThat(none.contentType()).isEqualTo("application/problem+json");
    Response wrong =
        Http.send(
            HttpRequest.newBuilder(URI.create(url("/v1/services/sneaky")))
                .header("authorization", "Bearer not-the-token")
                .PUT(HttpRequest.BodyPublishers.ofString("{}")));
    assertThat(wrong.status()).isEqualTo(401);
    Response wrongDelete =
        Http.send(
            HttpRequest.newBuilder(URI.create(url("/v1/services/sneaky")))
                .header("authorization", "Basic dXNlcjpwYXNz")
                .DELETE());
    assertThat(wrongDelete.status()).isEqualTo(401);
    assertThat(Http.get(url("/v1/services")).body()).isEqualTo(before);
  }

  @Test
  void ttlExpiryAndHeartbeatAfterExpiryIs404() throws Exception {
    Response registered =
        Http.post(
            url("/v1/services/ttl/instances"),
            "{\"host\": \"127.0.0.1\", \"port\": 7001, \"ttlSeconds\": 1}");
    String id = registered.json().getString("id");
    long registeredAt = System.nanoTime();
    Poll.until(
        Duration.ofSeconds(4),
        () ->
            assertThat(Http.get(url("/v1/services/ttl/instances/" + id)).status()).isEqualTo(404));
    // Within ttlSeconds + 1 s.
    assertThat(Duration.ofNanos(System.nanoTime() - registeredAt))
        .isLessThan(Duration.ofSeconds(2));
    Response late =
        Http.send(
            Http.authorized(url("/v1/services/ttl/instances/" + id + "/heartbeat"))
                .PUT(HttpRequest.BodyPublishers.noBody()));
    assertThat(late.status()).isEqualTo(404);
  }

  @Test
  void heartbeatsKeepAnInstanceAlive() throws Exception {
    String id =
        Http.post(
                url("/v1/services/alive/instances"),
                "{\"host\": \"127.0.0.1\", \"port\": 7002, \"ttlSeconds\": 1}")
            .json()
            .getString("id");
    long until = System.nanoTime() + Duration.ofMillis(2500).toNanos();
    while (System.nanoTime() < until) {
      assertThat(
              Http.send(
                      Http.authorized(url("/v1/services/alive/instances/" + id + "/heartbeat"))
                          .PUT(HttpRequest.BodyPublishers.noBody()))
                  .status())
          .isEqualTo(200);
      Thread.sleep(300); // the heartbeat period of this client, not a wait for an event
    }
    assertThat(Http.get(url("/v1/services/alive/instances/" + id)).status()).isEqualTo(200);
  }

  @Test
  void openApiDocumentIsServed() {
    Response doc = Http.get(url("/v1/openapi.yaml"));
    assertThat(doc.status()).isEqualTo(200);
    assertThat(doc.body()).contains("openapi: 3.1.0").contains("operationId: registerInstance");
  }

  @Test
  void unknownResourceIsAProblem404() {
    Response response = Http.get(url("/v1/nothing"));
    assertThat(response.status()).isEqualTo(404);
    assertThat(response.contentType()).isEqualTo("application/problem+json");
  }
}
