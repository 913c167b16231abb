package io.teller.common.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The backends' event-bus requests: their JSON both ways, and what the registry refuses. */
class RegistryContractTest {

  @Test
  void requestsRoundTripAndGoToTheirAddress() {
    RegistryContract.Register register =
        new RegistryContract.Register(
            "cart",
            new Instance.Registration("10.0.0.5", 8080, 2, Map.of("zone", "a"), 10),
            "member-1",
            "/shop/cart");
    assertThat(RegistryContract.Register.fromJson(register.toJson())).isEqualTo(register);
    assertThat(register.address()).isEqualTo(RegistryContract.REGISTER);
    RegistryContract.Register bare =
        new RegistryContract.Register(
            "cart", new Instance.Registration("h", 1, 1, Map.of(), null), null, null);
    assertThat(RegistryContract.Register.fromJson(bare.toJson())).isEqualTo(bare);

    RegistryContract.Heartbeat heartbeat = new RegistryContract.Heartbeat("cart", "cart-1");
    assertThat(RegistryContract.Heartbeat.fromJson(heartbeat.toJson())).isEqualTo(heartbeat);
    assertThat(heartbeat.address()).isEqualTo(RegistryContract.HEARTBEAT);

    RegistryContract.Deregister deregister = new RegistryContract.Deregister("cart", "c-1", false);
    assertThat(RegistryContract.Deregister.fromJson(deregister.toJson())).isEqualTo(deregister);
    assertThat(deregister.address()).isEqualTo(RegistryContract.DEREGISTER);
  }

  @Test
  void aDeregistrationDrainsUnlessToldNotTo() {
    assertThat(
            RegistryContract.Deregister.fromJson(
                    new JsonObject().put("service", "cart").put("id", "c-1"))
                .drain())
        .isTrue();
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"service\": \"Bad\", \"registration\": {\"host\": \"h\", \"port\": 1}}     | service",
        "{\"registration\": {\"host\": \"h\", \"port\": 1}}                          | service",
        "{\"service\": \"ok\"}                                                       | host",
        "{\"service\": \"ok\", \"registration\": {\"host\": \"h\", \"port\": 70000}} | port",
        "{\"service\": \"ok\", \"registration\": 5}                                  | registration",
        "{\"service\": \"ok\", \"registration\": {\"host\": \"h\", \"port\": 1}, \"member\": 3}      | member",
        "{\"service\": \"ok\", \"registration\": {\"host\": \"h\", \"port\": 1}, \"routePrefix\": \"x\"} | routePrefix",
      })
  void aBadRegistrationNamesTheField(String json, String field) {
    assertThatThrownBy(() -> RegistryContract.Register.fromJson(new JsonObject(json)))
        .isInstanceOfSatisfying(
            ValidationException.class, e -> assertThat(e.field()).isEqualTo(field));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"id\": \"c-1\"}                                       | service",
        "{\"service\": \"cart\"}                                 | id",
        "{\"service\": \"cart\", \"id\": 7}                      | id",
        "{\"service\": \"cart\", \"id\": \"c-1\", \"drain\": 1}  | drain",
      })
  void aBadDeregistrationNamesTheField(String json, String field) {
    assertThatThrownBy(() -> RegistryContract.Deregister.fromJson(new JsonObject(json)))
        .isInstanceOfSatisfying(
            ValidationException.class, e -> assertThat(e.field()).isEqualTo(field));
  }
}
