package io.teller.balancer.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HeadersTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "connection",
        "Connection",
        "KEEP-ALIVE",
        "te",
        "TE",
        "trailer",
        "Transfer-Encoding",
        "upgrade",
        "proxy-authorization",
        "Proxy-Authenticate",
        "proxy-connection",
        "Proxy-Anything",
        "proxy-a",
        "Proxy-Info",
        "proxy-something-17"
      })
  void hopByHopFieldsAreKnownWhateverTheirCase(String name) {
    assertThat(Headers.isHopByHop(name)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "x-te",
        "tee",
        "proxy",
        "proxy-",
        "trailers",
        "content-length",
        "host",
        "x-upgrade",
        "t",
        "",
        "upgraded",
        "connections",
        "keep-alive2",
        "transfer-encodings",
        "content-type"
      })
  void endToEndFieldsAreNot(String name) {
    assertThat(Headers.isHopByHop(name)).isFalse();
  }

  @Test
  void fieldsNamedByAnyConnectionLineAreDroppedToo() {
    MultiMap from =
        HttpHeaders.headers()
            .add("Connection", "keep-alive")
            .add("connection", "X-Secret, x-other")
            .add("X-Secret", "1")
            .add("X-Other", "2")
            .add("X-Kept", "3")
            .add("Keep-Alive", "timeout=5");
    MultiMap to = HttpHeaders.headers();
    Headers.copyEndToEnd(from, to);
    assertThat(to.names()).containsExactly("X-Kept");
  }

  @Test
  void aConnectionLineNamingOnlyHopByHopFieldsDropsNothingElse() {
    MultiMap from =
        HttpHeaders.headers()
            .add("Connection", "keep-alive, Upgrade")
            .add("Keep-Alive", "timeout=5")
            .add("Upgrade", "h2c")
            .add("Content-Type", "text/plain")
            .add("close", "kept: not named here");
    MultiMap to = HttpHeaders.headers();
    Headers.copyEndToEnd(from, to);
    assertThat(to.names()).containsExactlyInAnyOrder("Content-Type", "close");
  }

  @Test
  void forwardingHeadersFromAnUntrustedClientAreReplacedAndFromATrustedOneAppendedTo() {
    MultiMap untrusted =
        HttpHeaders.headers().add("X-Forwarded-For", "6.6.6.6").add("Forwarded", "for=6.6.6.6");
    new Headers.Forwarding("https").add(untrusted, "10.0.0.1", "example.com", 443, false);
    assertThat(untrusted.get("x-forwarded-for")).isEqualTo("10.0.0.1");
    assertThat(untrusted.get("forwarded"))
        .isEqualTo("for=10.0.0.1;host=\"example.com\";proto=https");
    assertThat(untrusted.get("x-forwarded-port")).isEqualTo("443");

    MultiMap trusted =
        HttpHeaders.headers().add("X-Forwarded-For", "1.2.3.4").add("Forwarded", "for=1.2.3.4");
    new Headers.Forwarding("http").add(trusted, "::1", null, 80, true);
    assertThat(trusted.get("x-forwarded-for")).isEqualTo("1.2.3.4, ::1");
    assertThat(trusted.get("forwarded")).isEqualTo("for=1.2.3.4, for=\"[::1]\";proto=http");
    assertThat(trusted.contains("x-forwarded-host")).isFalse();
  }

  @Test
  void oneListenersForwardingFollowsEachRequestsClientHostAndPort() {
    Headers.Forwarding forwarding = new Headers.Forwarding("https");
    String[][] requests = {
      {"10.0.0.1", "a.example", "443"},
      {"10.0.0.1", "a.example", "443"},
      {"10.0.0.2", "a.example", "443"},
      {"10.0.0.2", "b.example", "8443"},
      {"10.0.0.2", null, "8443"},
      {"10.0.0.1", "a.example", "443"},
    };
    for (String[] request : requests) {
      MultiMap headers = HttpHeaders.headers();
      forwarding.add(headers, request[0], request[1], Integer.parseInt(request[2]), false);
      String host = request[1] == null ? "" : ";host=\"" + request[1] + "\"";
      assertThat(headers.get("forwarded")).isEqualTo("for=" + request[0] + host + ";proto=https");
      assertThat(headers.get("x-forwarded-for")).isEqualTo(request[0]);
      assertThat(headers.get("x-forwarded-host")).isEqualTo(request[1]);
      assertThat(headers.get("x-forwarded-port")).isEqualTo(request[2]);
    }
  }
}
