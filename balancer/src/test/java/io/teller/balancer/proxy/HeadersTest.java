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
        "Proxy-Anything"
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
        "x-upgrade"
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
}
