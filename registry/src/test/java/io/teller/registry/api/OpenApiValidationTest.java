package io.teller.registry.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.teller.common.model.ValidationException;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The served OpenAPI document itself checks request bodies, naming the field at fault. */
class OpenApiValidationTest {

  static Vertx vertx;
  static OpenApiValidation validation;

  @BeforeAll
  static void load() throws Exception {
    vertx = Vertx.vertx();
    validation =
        vertx
            .fileSystem()
            .readFile("openapi.yaml")
            .compose(doc -> OpenApiValidation.load(vertx, doc))
            .toCompletionStage()
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
  }

  @AfterAll
  static void close() {
    vertx.close();
  }

  @ParameterizedTest(name = "{0}: {1} -> {2}")
  @CsvSource(
      delimiter = '|',
      value = {
        "registerInstance | {\"host\": \"h\", \"port\": \"80\"}                | port",
        "registerInstance | {\"host\": \"h\", \"port\": 0}                     | port",
        "registerInstance | {\"port\": 80}                                    | host",
        "registerInstance | {\"host\": \"h\", \"port\": 80, \"x\": 1}         | x",
        "registerInstance | {\"host\": \"h\", \"port\": 80, \"weight\": 2000} | weight",
        "putService       | {\"strategy\": \"fastest\"}                       | strategy",
        "putService       | {\"routes\": [{\"pathPrefix\": \"no-slash\"}]}     | routes[0].pathPrefix",
        "putService       | {\"routes\": [{\"methods\": [\"FETCH\"]}]}        | routes[0].methods[0]",
        "putService       | {\"healthCheck\": {\"timeoutMs\": \"1s\"}}         | healthCheck.timeoutMs",
        "putService       | {\"stripPrefix\": \"yes\"}                        | stripPrefix",
      })
  void aBodyOutsideTheSchemaNamesTheField(String operation, String body, String field) {
    assertThatThrownBy(() -> validation.validateBody(operation, new JsonObject(body)))
        .isInstanceOfSatisfying(
            ValidationException.class,
            e -> {
              assertThat(e.field()).isEqualTo(field);
              assertThat(e.detail()).isNotBlank();
            });
  }

  @Test
  void aGoodBodyPasses() {
    assertThatCode(
            () ->
                validation.validateBody(
                    "registerInstance",
                    new JsonObject(
                        "{\"host\": \"10.0.0.1\", \"port\": 8080, \"weight\": 5, \"metadata\": {\"zone\": \"a\"}, \"ttlSeconds\": 10}")))
        .doesNotThrowAnyException();
    assertThatCode(
            () ->
                validation.validateBody(
                    "putService",
                    new JsonObject(
                        """
        {"routes": [{"hosts": ["a.example.com"], "pathPrefix": "/a", "headers": {"X": "1"}, "methods": ["GET"]}],
         "strategy": "consistent-hash", "hashOn": "header:X-User", "healthCheck": {"path": "/h"}}
        """)))
        .doesNotThrowAnyException();
  }

  @Test
  void fieldPathsReadLikeJson() {
    assertThat(OpenApiValidation.field("/routes/0/hosts/1")).isEqualTo("routes[0].hosts[1]");
    assertThat(OpenApiValidation.field("#")).isEmpty();
    assertThat(OpenApiValidation.field("/metadata/a~1b")).isEqualTo("metadata.a/b");
  }

  @ParameterizedTest(name = "{0}: {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "registerInstance | {\"host\": \"10.0.0.1\", \"port\": 8080}",
        "registerInstance | {\"host\": \"h\", \"port\": 1, \"weight\": 0, \"metadata\": {}, \"ttlSeconds\": 86400}",
        "registerInstance | {\"host\": \"h\", \"port\": 65535, \"metadata\": {\"a\": \"b\"}}",
        "registerInstance | {\"host\": \"h\", \"port\": 65536}",
        "registerInstance | {\"host\": \"h\", \"port\": 80.0}",
        "registerInstance | {\"host\": \"h\", \"port\": 80.5}",
        "registerInstance | {\"host\": null, \"port\": 80}",
        "registerInstance | {\"host\": \"h\", \"port\": 80, \"metadata\": {\"a\": 1}}",
        "registerInstance | {\"host\": \"h\", \"port\": 80, \"metadata\": {\"a\": null}}",
        "registerInstance | {\"host\": \"h\", \"port\": 80, \"weight\": -1}",
        "registerInstance | {\"host\": \"h\", \"port\": 80, \"ttlSeconds\": 0}",
        "registerInstance | {\"host\": \"h\", \"port\": 80, \"ttlSeconds\": 99999999999}",
        "registerInstance | {\"host\": \"h\", \"port\": 80, \"extra\": \"x\"}",
        "registerInstance | {\"host\": \"h\"}",
        "registerInstance | {\"host\": 5, \"port\": 80}",
        "updateInstance   | {\"weight\": 3}",
        "updateInstance   | {\"weight\": 3000}",
        "updateInstance   | {}",
      })
  void theQuickCheckSaysYesOnlyWhereTheFullValidatorDoes(String operation, String body) {
    JsonObject json = new JsonObject(body);
    if (validation.quicklyValid(operation, json)) {
      assertThat(validation.fullyValid(operation, json)).isTrue();
    }
  }

  @Test
  void theRegistrationRoutesHaveAQuickCheck() {
    JsonObject registration = new JsonObject("{\"host\": \"10.0.0.1\", \"port\": 8080}");
    assertThat(validation.quicklyValid("registerInstance", registration)).isTrue();
    assertThat(validation.quicklyValid("updateInstance", new JsonObject("{\"weight\": 3}")))
        .isTrue();
    // Too rich for it: always the full validator.
    assertThat(validation.quicklyValid("putService", new JsonObject("{}"))).isFalse();
    String longHost = "h".repeat(254);
    assertThat(
            validation.quicklyValid(
                "registerInstance", new JsonObject().put("host", longHost).put("port", 80)))
        .isFalse();
  }
}
