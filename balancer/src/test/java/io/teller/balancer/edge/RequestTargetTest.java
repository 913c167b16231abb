package io.teller.balancer.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RequestTargetTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "/, /",
    "/a/b, /a/b",
    "/public/../internal, /internal",
    "/public/./x, /public/x",
    "/a/b/c/./../../g, /a/g",
    "/.., /",
    "/../../etc/passwd, /etc/passwd",
    "/a/.., /",
    "/a/., /a/",
    "/a/b/.., /a/",
    "/./a, /a",
    "/a//../b, /a/b",
    "/.hidden/file, /.hidden/file",
    "/a..b/c, /a..b/c",
    "'/a/../b?x=/../y', '/b?x=/../y'",
  })
  void dotSegmentsAreRemovedAndTheQueryKept(String uri, String expected) throws Exception {
    RequestTarget target = RequestTarget.of(uri, false);
    assertThat(target.uri()).isEqualTo(expected);
    assertThat(target.path()).isEqualTo(expected.split("\\?")[0]);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/a%2Fb",
        "/a%2fb",
        "/public/%2e%2e/internal",
        "/public/%2E./internal",
        "/a%5Cb",
        "/a\\b",
        "/a%zz",
        "/a%2",
        "/a%00b",
        "relative",
        ""
      })
  void whatServersDecodeDifferentlyIsRefused(String uri) {
    assertThatThrownBy(() -> RequestTarget.of(uri, false))
        .isInstanceOf(RequestTarget.Refused.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/a%2Fb", "/public/%2e%2e/internal", "/a%5Cb"})
  void encodedSeparatorsPassWhenAllowedAndAreNotDecoded(String uri) throws Exception {
    assertThat(RequestTarget.of(uri, true).uri()).isEqualTo(uri);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/a\\b", "/a%00", "/a%g0"})
  void backslashesNulAndMalformedEncodingsAreRefusedEvenWhenSeparatorsAreAllowed(String uri) {
    assertThatThrownBy(() -> RequestTarget.of(uri, true)).isInstanceOf(RequestTarget.Refused.class);
  }
}
