package io.teller.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.registry.testing.Http;
import io.teller.registry.testing.RegistryNodes;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A registry node upgraded onto a data directory that an earlier version wrote restores it. The
 * files in {@code src/test/resources/state-before-typed-writes} were written by {@code LocalCopy}
 * as it was before the registry's writes were typed: a snapshot (services {@code shop}, with every
 * option, {@code plain} and {@code gone}, an instance without and one with a TTL, cluster run 777)
 * and a log after it ({@code gone} removed, an instance of {@code plain}), revisions 1 to 7.
 */
@Timeout(120)
class StateFromAnEarlierVersionTest {

  @TempDir Path dataDir;

  @Test
  void aDataDirectoryWrittenBeforeTypedWritesIsRestored() throws Exception {
    Path state = dataDir.resolve("node-0").resolve(RegistryVerticle.STATE_DIR);
    Files.createDirectories(state);
    for (String file : List.of("snapshot", "log")) {
      try (InputStream in = getClass().getResourceAsStream("/state-before-typed-writes/" + file)) {
        Files.copy(in, state.resolve(file));
      }
    }
    try (RegistryNodes nodes = new RegistryNodes("upgrade", dataDir)) {
      RegistryNodes.Node node = nodes.start();

      assertThat(
              Http.get(node.url("/v1/services")).array().stream()
                  .map(o -> ((JsonObject) o).getString("name")))
          .containsExactly("plain", "shop");
      JsonObject shop = Http.get(node.url("/v1/services/shop")).json();
      JsonObject route = shop.getJsonArray("routes").getJsonObject(0);
      assertThat(route.getJsonArray("hosts"))
          .isEqualTo(new JsonArray().add("shop.example.com").add("*.shop.example.com"));
      assertThat(route.getString("pathPrefix")).isEqualTo("/api");
      assertThat(route.getJsonObject("headers").getString("X-Env")).isEqualTo("beta");
      assertThat(route.getJsonArray("methods")).isEqualTo(new JsonArray().add("GET").add("POST"));
      assertThat(shop.getBoolean("stripPrefix")).isTrue();
      assertThat(shop.getString("strategy")).isEqualTo("least-connections");
      assertThat(shop.getString("stickyCookie")).isEqualTo("pin");
      assertThat(shop.getInteger("drainTimeoutMs")).isEqualTo(2500);
      assertThat(shop.getBoolean("sharedCounts")).isFalse();
      assertThat(shop.getJsonObject("healthCheck").getInteger("intervalMs")).isEqualTo(60000);
      assertThat(shop.getJsonObject("healthCheck").getString("expectedStatus"))
          .isEqualTo("200-299");
      assertThat(shop.getJsonObject("timeouts").getInteger("connectMs")).isEqualTo(100);
      assertThat(shop.getInteger("tcpPort")).isEqualTo(15432);

      // The instance with a TTL was not kept; the other two were, as written.
      JsonArray shopInstances = Http.get(node.url("/v1/services/shop/instances")).array();
      assertThat(shopInstances).hasSize(1);
      JsonObject a = shopInstances.getJsonObject(0);
      assertThat(a.getInteger("port")).isEqualTo(8001);
      assertThat(a.getInteger("weight")).isEqualTo(3);
      assertThat(a.getJsonObject("metadata").getString("zone")).isEqualTo("a");
      assertThat(a.getString("registeredAt")).isEqualTo("2025-06-01T10:00:00Z");
      JsonArray plainInstances = Http.get(node.url("/v1/services/plain/instances")).array();
      assertThat(plainInstances).hasSize(1);
      assertThat(plainInstances.getJsonObject(0).getInteger("weight")).isZero();
      assertThat(Http.get(node.url("/v1/services/gone")).status()).isEqualTo(404);

      // Revisions go on above the last one written.
      Http.Response after = Http.put(node.url("/v1/services/after"), "{}");
      assertThat(after.status()).isEqualTo(201);
      assertThat(after.json().getLong("revision")).isGreaterThan(7);
    }
  }
}
