package io.teller.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.teller.balancer.proxy.AccessLog;
import io.teller.common.auth.ApiToken;
import io.teller.common.config.CommonSettings;
import io.teller.common.config.Setting;
import io.teller.common.config.TellerConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin listener on its own, over real HTTP: writes need the API token whoever calls (loopback
 * included), reads stay open, {@code /healthz} keeps its 200/503 meaning without naming the
 * cluster, and {@code admin.host} chooses the address.
 */
@Timeout(60)
class AdminVerticleTest {

  private static final String TOKEN = "admin-test-token";
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir Path dir;
  private final Vertx vertx = Vertx.vertx();
  private final AccessLog accessLog = new AccessLog(false);
  private final AtomicBoolean holdsSnapshot = new AtomicBoolean(true);

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Starts an admin listener on a free port of {@code host}; returns its base URL. */
  private String start(String listenHost, String adminHost, String token) throws Exception {
    Map<Setting, Object> values = new LinkedHashMap<>();
    values.put(CommonSettings.LISTEN_HOST, listenHost);
    values.put(CommonSettings.DATA_DIR, dir.resolve("data"));
    values.put(BalancerSettings.ADMIN_HOST, adminHost);
    // Port 0 is no valid setting, but lets the system choose a port no other test can take.
    values.put(BalancerSettings.ADMIN_PORT, 0);
    values.put(BalancerSettings.API_TOKEN, token);
    AdminVerticle admin =
        new AdminVerticle(
            TellerConfig.of(values),
            () -> 3,
            holdsSnapshot::get,
            () -> new JsonObject().put("instances", new JsonObject()),
            () -> new JsonObject().put("listeners", new JsonObject()),
            new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
            accessLog);
    vertx.deployVerticle(admin).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    String shown = adminHost.isEmpty() ? listenHost : adminHost;
    return "http://" + shown + ":" + admin.actualPort();
  }

  private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return HTTP.send(
        request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpRequest.Builder put(String url) {
    return HttpRequest.newBuilder(URI.create(url)).PUT(HttpRequest.BodyPublishers.noBody());
  }

  @Test
  void writesNeedTheTokenEvenFromLoopback() throws Exception {
    String admin = start("127.0.0.1", "", TOKEN);

    HttpResponse<String> none = send(put(admin + "/access-log?enabled=true"));
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("content-type")).hasValue("application/problem+json");
    assertThat(none.headers().firstValue("www-authenticate")).hasValue("Bearer realm=\"teller\"");
    JsonObject problem = new JsonObject(none.body());
    assertThat(problem.getInteger("status")).isEqualTo(401);
    assertThat(problem.getString("title")).isEqualTo("Unauthorized");
    assertThat(problem.getString("detail"))
        .isEqualTo("admin writes need Authorization: Bearer <token>");

    HttpResponse<String> wrong =
        send(put(admin + "/access-log?enabled=true").header("authorization", "Bearer guess"));
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(new JsonObject(wrong.body()).getString("detail"))
        .isEqualTo("the bearer token is not valid");
    assertThat(accessLog.enabled()).as("nothing switched without the token").isFalse();

    // Every write, whatever the path: the token is checked before routing.
    for (String method : new String[] {"POST", "DELETE", "PATCH", "OPTIONS"}) {
      HttpResponse<String> other =
          send(
              HttpRequest.newBuilder(URI.create(admin + "/access-log"))
                  .method(method, HttpRequest.BodyPublishers.noBody()));
      assertThat(other.statusCode()).as(method).isEqualTo(401);
    }

    HttpResponse<String> right =
        send(put(admin + "/access-log?enabled=true").header("authorization", "Bearer " + TOKEN));
    assertThat(right.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(right.body()).getBoolean("enabled")).isTrue();
    assertThat(accessLog.enabled()).isTrue();

    HttpResponse<String> bad =
        send(put(admin + "/access-log?enabled=maybe").header("authorization", "Bearer " + TOKEN));
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(bad.body()).getString("field")).isEqualTo("enabled");
  }

  @Test
  void readsStayOpen() throws Exception {
    String admin = start("127.0.0.1", "", TOKEN);
    for (String path : new String[] {"/healthz", "/metrics", "/counts", "/tcp", "/access-log"}) {
      assertThat(send(HttpRequest.newBuilder(URI.create(admin + path))).statusCode())
          .as(path)
          .isEqualTo(200);
    }
  }

  @Test
  void healthzSaysWhetherTheRegistryStateIsHeldAndNamesNoCluster() throws Exception {
    holdsSnapshot.set(false);
    String admin = start("127.0.0.1", "", TOKEN);
    HttpResponse<String> waiting = send(HttpRequest.newBuilder(URI.create(admin + "/healthz")));
    assertThat(waiting.statusCode()).isEqualTo(503);
    assertThat(new JsonObject(waiting.body()).getMap())
        .containsOnly(Map.entry("status", "WAITING_FOR_REGISTRY"), Map.entry("members", 3));

    holdsSnapshot.set(true);
    HttpResponse<String> up = send(HttpRequest.newBuilder(URI.create(admin + "/healthz")));
    assertThat(up.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(up.body()).getMap())
        .containsOnly(Map.entry("status", "UP"), Map.entry("members", 3));
  }

  @Test
  void withoutAConfiguredTokenTheDataDirectorysTokenFileIsUsed() throws Exception {
    // As the registry of `./teller up` leaves it in the shared data directory.
    ApiToken registrys = ApiToken.fromDataDir(dir.resolve("data"));
    String shared = Files.readString(registrys.file()).trim();
    String admin = start("127.0.0.1", "", "");

    assertThat(send(put(admin + "/access-log?enabled=true")).statusCode()).isEqualTo(401);
    assertThat(
            send(put(admin + "/access-log?enabled=true").header("authorization", "Bearer " + TOKEN))
                .statusCode())
        .isEqualTo(401);
    assertThat(
            send(put(admin + "/access-log?enabled=true")
                    .header("authorization", "Bearer " + shared))
                .statusCode())
        .isEqualTo(200);
  }

  @Test
  void withoutAnyTokenOneIsGeneratedThatOnlyItsOwnerCanRead() throws Exception {
    String admin = start("127.0.0.1", "", "");
    Path file = dir.resolve("data").resolve(ApiToken.FILE_NAME);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    String generated = Files.readString(file).trim();
    assertThat(
            send(put(admin + "/access-log?enabled=true")
                    .header("authorization", "Bearer " + generated))
                .statusCode())
        .isEqualTo(200);
  }

  @Test
  void adminHostChoosesTheAddressTheListenerBinds() throws Exception {
    assumeTrue(canBind("127.0.0.2"), "127.0.0.2 is not a loopback address here");
    String admin = start("127.0.0.1", "127.0.0.2", TOKEN);
    assertThat(admin).startsWith("http://127.0.0.2:");
    assertThat(send(HttpRequest.newBuilder(URI.create(admin + "/healthz"))).statusCode())
        .isEqualTo(200);
    String onListenHost = admin.replace("127.0.0.2", "127.0.0.1");
    assertThatThrownBy(() -> send(HttpRequest.newBuilder(URI.create(onListenHost + "/healthz"))))
        .isInstanceOf(ConnectException.class);
  }

  private static boolean canBind(String address) {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(address))) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
