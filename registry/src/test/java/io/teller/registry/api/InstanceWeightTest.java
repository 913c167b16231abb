package io.teller.registry.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.registry.testing.Http;
import io.teller.registry.testing.Http.Response;
import io.teller.registry.testing.RegistryNodes;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code PATCH /v1/services/{name}/instances/{id}} changes an instance's weight and nothing else,
 * with the API's token, validation and problem answers; {@code GET /v1/balancers} is open.
 */
@Timeout(120)
class InstanceWeightTest {

  @TempDir static Path dataDir;
  static RegistryNodes nodes;
  static RegistryNodes.Node node;

  @BeforeAll
  static void start() {
    nodes = new RegistryNodes("weight", dataDir);
    node = nodes.start();
  }

  @AfterAll
  static void stop() {
    nodes.close();
  }

  static Response patch(String path, String body) {
    return Http.send(
        Http.authorized(node.url(path)).method("PATCH", HttpRequest.BodyPublishers.ofString(body)));
  }

  @Test
  void aWeightChangesAloneAndOnlyWithAValidBodyAndTheToken() {
    Response registered =
        Http.post(
            node.url("/v1/services/scale/instances"),
            "{\"host\": \"127.0.0.1\", \"port\": 9, \"weight\": 1, \"metadata\": {\"zone\": \"a\"}}");
    assertThat(registered.status()).isEqualTo(201);
    String id = registered.json().getString("id");
    String path = "/v1/services/scale/instances/" + id;
    long revision = registered.json().getLong("revision");

    Response changed = patch(path, "{\"weight\": 5}");
    assertThat(changed.status()).isEqualTo(200);
    assertThat(changed.json().getInteger("weight")).isEqualTo(5);
    assertThat(changed.json().getLong("revision")).isGreaterThan(revision);
    assertThat(changed.json().getJsonObject("metadata").getString("zone")).isEqualTo("a");
    assertThat(changed.json().getString("status")).isEqualTo("healthy");
    assertThat(Http.get(node.url(path)).json().getInteger("weight")).isEqualTo(5);

    // The same weight again: nothing to change, no new revision.
    Response same = patch(path, "{\"weight\": 5}");
    assertThat(same.status()).isEqualTo(200);
    assertThat(same.json().getLong("revision")).isEqualTo(changed.json().getLong("revision"));

    Response tooHeavy = patch(path, "{\"weight\": 1001}");
    assertThat(tooHeavy.status()).isEqualTo(400);
    assertThat(tooHeavy.contentType()).isEqualTo("application/problem+json");
    assertThat(tooHeavy.json().getString("field")).isEqualTo("weight");
    Response other = patch(path, "{\"weight\": 2, \"host\": \"10.0.0.1\"}");
    assertThat(other.status()).isEqualTo(400);
    assertThat(other.json().getString("field")).isEqualTo("host");
    assertThat(patch(path, "{}").json().getString("field")).isEqualTo("weight");
    assertThat(patch("/v1/services/scale/instances/scale-0000000000", "{\"weight\": 2}").status())
        .isEqualTo(404);
    Response anonymous =
        Http.send(
            HttpRequest.newBuilder(URI.create(node.url(path)))
                .header("content-type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"weight\": 3}")));
    assertThat(anonymous.status()).isEqualTo(401);
    assertThat(Http.get(node.url(path)).json().getInteger("weight")).isEqualTo(5);
  }

  @Test
  void balancersAreListedWithoutAToken() {
    Response balancers = Http.get(node.url("/v1/balancers"));
    assertThat(balancers.status()).isEqualTo(200);
    assertThat(balancers.array()).isEmpty();
  }
}
