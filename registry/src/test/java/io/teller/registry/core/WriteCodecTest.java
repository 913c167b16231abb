package io.teller.registry.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.teller.common.model.Instance;
import io.teller.common.model.InstanceStatus;
import io.teller.common.model.Service;
import io.teller.common.model.Snapshot;
import io.teller.registry.core.WriteCodec.Request;
import io.teller.registry.core.WriteCodec.Written;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every write command and reply survives its trip through JSON, and older nodes' JSON is read. */
class WriteCodecTest {

  static final Instant NOW = Instant.parse("2025-03-01T12:00:00Z");

  static final Service SHOP =
      Service.fromJson(
              new JsonObject(
                  """
                  {"routes": [{"hosts": ["shop.example.com", "*.shop.example.com"],
                               "pathPrefix": "/api", "headers": {"X-Env": "beta"},
                               "methods": ["GET", "POST"]}],
                   "stripPrefix": true, "strategy": "consistent-hash", "hashOn": "header:X-User",
                   "stickyCookie": "pin", "drainTimeoutMs": 2500, "sharedCounts": false,
                   "healthCheck": {"path": "/health", "intervalMs": 1000, "expectedStatus": "200-299"},
                   "timeouts": {"connectMs": 100, "responseMs": 2000}, "tcpPort": 15432}
                  """),
              "shop")
          .withRevision(7);

  static final Instance.Registration REGISTRATION =
      new Instance.Registration("10.0.0.5", 8080, 3, Map.of("zone", "a", "rack", "r2"), 30);

  static final Instance CART =
      Instance.registered(
              "cart", REGISTRATION, InstanceStatus.STARTING, Instance.SOURCE_EVENT_BUS, "m-1", NOW)
          .draining(NOW.plusSeconds(5), NOW.plusSeconds(15))
          .withRevision(42);

  static List<WriteCommand<?>> commands() {
    return List.of(
        new WriteCommand.PutService(SHOP),
        new WriteCommand.PutService(Service.withDefaults("plain")),
        new WriteCommand.DeleteService("shop"),
        new WriteCommand.Register("cart", REGISTRATION, Instance.SOURCE_EVENT_BUS, "m-1", "/c"),
        new WriteCommand.Register(
            "cart",
            new Instance.Registration("h", 1, 1, Map.of(), null),
            Instance.SOURCE_REST,
            null,
            null),
        new WriteCommand.Deregister("cart", CART.id(), true),
        new WriteCommand.Deregister("cart", CART.id(), false),
        new WriteCommand.SetStatus(CART.id(), InstanceStatus.UNHEALTHY, "failed 3 times"),
        new WriteCommand.SetWeight("cart", CART.id(), 0),
        new WriteCommand.SetWeight("cart", CART.id(), Instance.MAX_WEIGHT),
        new WriteCommand.RemoveIf(CART.id(), WriteCommand.Removal.EXPIRED, null),
        new WriteCommand.RemoveIf(CART.id(), WriteCommand.Removal.DRAINED, null),
        new WriteCommand.RemoveIf(CART.id(), WriteCommand.Removal.MEMBER_LEFT, "m-1"),
        new WriteCommand.MergeCopy(new Snapshot(99, List.of(SHOP), List.of(CART)), 1234567L));
  }

  @ParameterizedTest
  @MethodSource("commands")
  void aCommandRoundTrips(WriteCommand<?> command) {
    Request request = new Request("req-1", command);
    assertThat(WriteCodec.decode(WriteCodec.encode(request))).isEqualTo(request);
  }

  @Test
  void everyKindOfCommandIsRoundTripped() {
    assertThat(commands().stream().<Class<?>>map(Object::getClass).distinct())
        .containsExactlyInAnyOrderElementsOf(
            Arrays.asList(WriteCommand.class.getPermittedSubclasses()));
  }

  /** Each kind of command with a reply it may get. */
  static List<Object[]> replies() {
    return List.of(
        pair(new WriteCommand.PutService(SHOP), new WriteReply.ServiceStored(SHOP, true), 7),
        pair(new WriteCommand.PutService(SHOP), new WriteReply.ServiceStored(SHOP, false), 8),
        pair(new WriteCommand.DeleteService("shop"), new WriteReply.ServiceDeleted(), 12),
        pair(
            new WriteCommand.Register("cart", REGISTRATION, Instance.SOURCE_REST, null, null),
            new WriteReply.InstanceStored(CART, true),
            42),
        pair(
            new WriteCommand.Register("cart", REGISTRATION, Instance.SOURCE_REST, null, null),
            new WriteReply.InstanceStored(CART, false),
            0),
        pair(
            new WriteCommand.Deregister("cart", CART.id(), true),
            new WriteReply.Deregistered(CART, false),
            43),
        pair(
            new WriteCommand.Deregister("cart", CART.id(), false),
            new WriteReply.Deregistered(CART, true),
            44),
        pair(
            new WriteCommand.SetStatus(CART.id(), InstanceStatus.HEALTHY, null),
            new WriteReply.StatusSet(true),
            45),
        pair(
            new WriteCommand.SetStatus(CART.id(), InstanceStatus.HEALTHY, null),
            new WriteReply.StatusSet(false),
            0),
        pair(
            new WriteCommand.SetWeight("cart", CART.id(), 7),
            new WriteReply.WeightSet(CART, true),
            47),
        pair(
            new WriteCommand.SetWeight("cart", CART.id(), 3),
            new WriteReply.WeightSet(CART, false),
            0),
        pair(
            new WriteCommand.RemoveIf(CART.id(), WriteCommand.Removal.EXPIRED, null),
            new WriteReply.Removed(true),
            46),
        pair(
            new WriteCommand.RemoveIf(CART.id(), WriteCommand.Removal.EXPIRED, null),
            new WriteReply.Removed(false),
            0),
        pair(
            new WriteCommand.MergeCopy(new Snapshot(0, List.of(), List.of()), 1),
            new WriteReply.CopyMerged(987654321L, 3, 12),
            115));
  }

  private static Object[] pair(WriteCommand<?> command, WriteReply reply, long revision) {
    return new Object[] {command, new Written<>(reply, revision)};
  }

  @ParameterizedTest
  @MethodSource("replies")
  <R extends WriteReply> void aReplyRoundTrips(WriteCommand<R> command, Written<R> written) {
    assertThat(WriteCodec.decodeReply(command, WriteCodec.encodeReply(written))).isEqualTo(written);
  }

  @Test
  void everyKindOfReplyIsRoundTripped() {
    assertThat(
            replies().stream()
                .<Class<?>>map(p -> ((Written<?>) p[1]).reply().getClass())
                .distinct())
        .containsExactlyInAnyOrderElementsOf(
            Arrays.asList(WriteReply.class.getPermittedSubclasses()));
  }

  @Test
  void commandsAsNodesBeforeTypedCommandsSentThemAreRead() {
    // Those nodes sent the body of PUT /v1/services/{name} as the user gave it, and a
    // registration without the fields the user left out.
    Request put =
        WriteCodec.decode(
            new JsonObject(
                """
                {"op": "put-service", "name": "old", "requestId": "r1",
                 "service": {"strategy": "least-connections"}}
                """));
    assertThat(put.command())
        .isEqualTo(
            new WriteCommand.PutService(
                Service.fromJson(new JsonObject().put("strategy", "least-connections"), "old")));
    Request register =
        WriteCodec.decode(
            new JsonObject(
                """
                {"op": "register", "service": "old", "requestId": "r2",
                 "registration": {"host": "10.0.0.9", "port": 9000}}
                """));
    assertThat(register.command())
        .isEqualTo(
            new WriteCommand.Register(
                "old",
                new Instance.Registration(
                    "10.0.0.9", 9000, Instance.DEFAULT_WEIGHT, Map.of(), null),
                Instance.SOURCE_REST,
                null,
                null));
  }

  @Test
  void aCommandFromANewerNodeIsRefused() {
    assertThatThrownBy(() -> WriteCodec.decode(new JsonObject().put("op", "rename-service")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("rename-service");
  }
}
