package io.teller.balancer.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The guard on Netty's in-memory channel: exactly which bytes it passes on, what it answers, and
 * that a request's fate does not depend on how its bytes were cut into reads.
 */
class Http1GuardTest {

  static final String GET = "GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
  static final String POST_LENGTH =
      "POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: 11\r\n\r\nhello world";
  static final String POST_CHUNKED =
      "POST /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5;name=value;q=\"a \\\"quoted\\\" ext\"\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 42\r\n\r\n";

  final List<String> rejected = new ArrayList<>();
  final EdgeLimits limits = new EdgeLimits(64, 256, 8, 1_000);

  EmbeddedChannel channel() {
    Http1Guard guard =
        new Http1Guard(limits, (rejection, detail, client) -> rejected.add(rejection.label()));
    return new EmbeddedChannel(guard, new ResponseTracker(guard));
  }

  static ByteBuf bytes(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
  }

  static String passed(EmbeddedChannel channel) {
    StringBuilder out = new StringBuilder();
    for (Object m; (m = channel.readInbound()) != null; ) {
      ByteBuf buf = (ByteBuf) m;
      out.append(buf.toString(StandardCharsets.ISO_8859_1));
      buf.release();
    }
    return out.toString();
  }

  static String answered(EmbeddedChannel channel) {
    StringBuilder out = new StringBuilder();
    for (Object m; (m = channel.readOutbound()) != null; ) {
      if (m instanceof ByteBuf buf) {
        out.append(buf.toString(StandardCharsets.ISO_8859_1));
        buf.release();
      }
    }
    return out.toString();
  }

  @Test
  void validRequestsPassUnchangedHoweverTheirBytesAreCut() {
    String stream = GET + POST_LENGTH + POST_CHUNKED + GET;
    // Whole, then cut in two at every position, then one byte per read.
    for (int cut = 0; cut <= stream.length(); cut++) {
      EmbeddedChannel channel = channel();
      channel.writeInbound(bytes(stream.substring(0, cut)));
      channel.writeInbound(bytes(stream.substring(cut)));
      assertThat(passed(channel)).as("cut at %d", cut).isEqualTo(stream);
      assertThat(answered(channel)).isEmpty();
      assertThat(channel.isOpen()).isTrue();
    }
    EmbeddedChannel channel = channel();
    for (char c : stream.toCharArray()) {
      channel.writeInbound(bytes(String.valueOf(c)));
    }
    assertThat(passed(channel)).isEqualTo(stream);
    assertThat(rejected).isEmpty();
  }

  static Stream<Arguments> refused() {
    String h = "Host: example.com\r\n";
    String chunked = "Transfer-Encoding: chunked\r\n";
    return Stream.of(
        Arguments.of(
            "xchunked",
            "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: xchunked\r\n\r\n",
            400,
            "transfer-encoding"),
        Arguments.of(
            "chunked not last",
            "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked, gzip\r\n\r\n",
            400,
            "transfer-encoding"),
        Arguments.of(
            "chunked twice",
            "POST / HTTP/1.1\r\n"
                + h
                + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
            "transfer-encoding"),
        Arguments.of(
            "unknown coding",
            "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip, chunked\r\n\r\n",
            400,
            "transfer-encoding"),
        Arguments.of(
            "TE on HTTP/1.0",
            "POST / HTTP/1.0\r\n" + h + chunked + "\r\n0\r\n\r\n",
            400,
            "transfer-encoding"),
        Arguments.of(
            "folded TE",
            "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding:\r\n chunked\r\n\r\n",
            400,
            "folded-field"),
        Arguments.of(
            "space before colon",
            "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding : chunked\r\n\r\n",
            400,
            "field-name"),
        Arguments.of(
            "vertical tab",
            "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: \u000bchunked\r\n\r\n",
            400,
            "field-value"),
        Arguments.of(
            "CL disagree",
            "POST / HTTP/1.1\r\n" + h + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
            400,
            "content-length"),
        Arguments.of(
            "CL list disagree",
            "POST / HTTP/1.1\r\n" + h + "Content-Length: 5, 6\r\n\r\nhello!",
            400,
            "content-length"),
        Arguments.of(
            "CL not a number",
            "POST / HTTP/1.1\r\n" + h + "Content-Length: 5a\r\n\r\nhello",
            400,
            "content-length"),
        Arguments.of(
            "CL signed",
            "POST / HTTP/1.1\r\n" + h + "Content-Length: +5\r\n\r\nhello",
            400,
            "content-length"),
        Arguments.of(
            "CL overflow",
            "POST / HTTP/1.1\r\n" + h + "Content-Length: 99999999999999999999\r\n\r\n",
            400,
            "content-length"),
        Arguments.of(
            "chunk size overflow",
            "POST / HTTP/1.1\r\n" + h + chunked + "\r\n10000000000000005\r\nhello\r\n0\r\n\r\n",
            400,
            "chunk-framing"),
        Arguments.of(
            "chunk data without CRLF",
            "POST / HTTP/1.1\r\n" + h + chunked + "\r\n5\r\nhelloXX0\r\n\r\n",
            400,
            "chunk-framing"),
        Arguments.of(
            "quoted extension over CRLF",
            "POST / HTTP/1.1\r\n"
                + h
                + chunked
                + "\r\n5;a=\"x\r\n0\r\n\r\nGET /x HTTP/1.1\r\n\r\n\"\r\nhello\r\n0\r\n\r\n",
            400,
            "chunk-framing"),
        Arguments.of(
            "chunk size bare LF",
            "POST / HTTP/1.1\r\n" + h + chunked + "\r\n5\nhello\r\n0\r\n\r\n",
            400,
            "chunk-framing"),
        Arguments.of(
            "no chunk size",
            "POST / HTTP/1.1\r\n" + h + chunked + "\r\n;a\r\n",
            400,
            "chunk-framing"),
        Arguments.of(
            "bad trailer",
            "POST / HTTP/1.1\r\n" + h + chunked + "\r\n0\r\nBad Trailer: x\r\n\r\n",
            400,
            "chunk-framing"),
        Arguments.of("no Host", "GET / HTTP/1.1\r\n\r\n", 400, "host"),
        Arguments.of("two Hosts", "GET / HTTP/1.1\r\n" + h + "Host: evil\r\n\r\n", 400, "host"),
        Arguments.of("Host with userinfo", "GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", 400, "host"),
        Arguments.of(
            "absolute-form other host",
            "GET http://evil/ HTTP/1.1\r\n" + h + "\r\n",
            400,
            "request-target"),
        Arguments.of("fragment", "GET /a#b HTTP/1.1\r\n" + h + "\r\n", 400, "request-target"),
        Arguments.of(
            "authority-form",
            "GET example.com:80 HTTP/1.1\r\n" + h + "\r\n",
            400,
            "request-target"),
        Arguments.of("CONNECT", "CONNECT example.com:443 HTTP/1.1\r\n" + h + "\r\n", 405, "method"),
        Arguments.of(
            "NUL in value", "GET / HTTP/1.1\r\n" + h + "X-A: a\u0000b\r\n\r\n", 400, "field-value"),
        Arguments.of(
            "CR in value", "GET / HTTP/1.1\r\n" + h + "X-A: a\rb\r\n\r\n", 400, "field-value"),
        Arguments.of("bare LF", "GET / HTTP/1.1\n" + h + "\n", 400, "line-ending"),
        Arguments.of(
            "space in name", "GET / HTTP/1.1\r\n" + h + "Bad Name: x\r\n\r\n", 400, "field-name"),
        Arguments.of(
            "control in name", "GET / HTTP/1.1\r\n" + h + "X-\u0001: x\r\n\r\n", 400, "field-name"),
        Arguments.of("empty name", "GET / HTTP/1.1\r\n" + h + ": x\r\n\r\n", 400, "field-name"),
        Arguments.of("two spaces", "GET  / HTTP/1.1\r\n" + h + "\r\n", 400, "request-line"),
        Arguments.of("HTTP/2.0 line", "GET / HTTP/2.0\r\n" + h + "\r\n", 505, "http-version"),
        Arguments.of("garbage version", "GET / HTTX/1.1\r\n" + h + "\r\n", 400, "request-line"),
        Arguments.of(
            "too many fields",
            "GET / HTTP/1.1\r\n"
                + h
                + "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\n\r\n",
            431,
            "too-many-fields"),
        Arguments.of(
            "request line too long",
            "GET /" + "a".repeat(80) + " HTTP/1.1\r\n" + h + "\r\n",
            414,
            "uri-too-long"),
        Arguments.of(
            "headers too large",
            "GET / HTTP/1.1\r\n" + h + "X: " + "a".repeat(300) + "\r\n\r\n",
            431,
            "headers-too-large"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refused")
  void ambiguousOrMalformedRequestsAreAnsweredAndClosedAndNothingPasses(
      String name, String request, int status, String reason) {
    // Whole, and one byte per read: the same verdict. (A head that arrives whole in a read before
    // its bad body is passed on by then: bodies stream.)
    for (boolean trickle : new boolean[] {false, true}) {
      rejected.clear();
      EmbeddedChannel channel = channel();
      if (trickle) {
        for (char c : request.toCharArray()) {
          if (channel.isOpen()) {
            channel.writeInbound(bytes(String.valueOf(c)));
          }
        }
      } else {
        channel.writeInbound(bytes(request));
      }
      String answer = answered(channel);
      String passed = passed(channel);
      if (!trickle || !reason.equals("chunk-framing")) {
        assertThat(passed).as("passed on").isEmpty();
      }
      assertThat(answer).startsWith("HTTP/1.1 " + status + " ").contains("connection: close");
      assertThat(rejected).containsExactly(reason);
      assertThat(channel.isOpen()).isFalse();
    }
  }

  @Test
  void contentLengthBesideChunkedIsDroppedAndTheConnectionClosesAfter() {
    EmbeddedChannel channel = channel();
    channel.writeInbound(
        bytes(
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n0\r\n\r\n"
                + "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"));
    assertThat(passed(channel))
        .isEqualTo(
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nconnection: close\r\n\r\n"
                + "5\r\nhello\r\n0\r\n\r\n");
    channel.writeInbound(bytes("GET /later HTTP/1.1\r\nHost: a\r\n\r\n"));
    assertThat(passed(channel)).isEmpty();
    assertThat(rejected).isEmpty();
  }

  @Test
  void agreeingContentLengthsBecomeOneAndTheConnectionClosesAfter() {
    EmbeddedChannel channel = channel();
    channel.writeInbound(
        bytes("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\nHost: a\r\n\r\nhelloGET / HTTP/1.1\r\n"));
    assertThat(passed(channel))
        .isEqualTo(
            "POST / HTTP/1.1\r\ncontent-length: 5\r\nHost: a\r\nconnection: close\r\n\r\nhello");
  }

  @Test
  void anAbsoluteFormTargetForTheSameHostBecomesOriginForm() {
    EmbeddedChannel channel = channel();
    channel.writeInbound(
        bytes("GET http://Example.com:8080?x=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n"));
    assertThat(passed(channel)).isEqualTo("GET /?x=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n");
  }

  @Test
  void aRefusalWaitsForTheResponsesBeforeIt() {
    EmbeddedChannel channel = channel();
    channel.writeInbound(bytes(GET + "GET / HTTP/1.1\r\n\r\n"));
    assertThat(passed(channel)).isEqualTo(GET);
    assertThat(answered(channel)).isEmpty();
    assertThat(channel.isOpen()).isTrue();

    // The first request's response goes out (through the tracker); then the refusal.
    channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
    assertThat((Object) channel.readOutbound()).isInstanceOf(DefaultFullHttpResponse.class);
    String out = answered(channel);
    assertThat(out).startsWith("HTTP/1.1 400 ").contains("no Host field");
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void aBadChunkAfterTheHeadWentOnIsAnsweredIfItsResponseHasNotBegun() {
    EmbeddedChannel channel = channel();
    channel.writeInbound(
        bytes("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc"));
    assertThat(passed(channel)).startsWith("POST / HTTP/1.1").endsWith("3\r\nabc");
    channel.writeInbound(bytes("XX"));
    assertThat(answered(channel)).startsWith("HTTP/1.1 400 ").contains("not followed by CRLF");
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void aBadChunkAfterItsResponseBeganClosesWithoutAnAnswer() {
    EmbeddedChannel channel = channel();
    channel.writeInbound(
        bytes("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc"));
    passed(channel);
    channel.writeOutbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
    answered(channel);
    channel.writeInbound(bytes("\r\nzz\r\n"));
    assertThat(answered(channel)).isEmpty();
    assertThat(rejected).containsExactly("chunk-framing");
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void aHeadThatDoesNotArriveInTimeIsAnswered408() {
    EmbeddedChannel channel = channel();
    channel.writeInbound(bytes("GET / HTTP/1.1\r\nHost: a\r\n"));
    channel.advanceTimeBy(999, TimeUnit.MILLISECONDS);
    channel.runScheduledPendingTasks();
    assertThat(channel.isOpen()).isTrue();
    channel.advanceTimeBy(2, TimeUnit.MILLISECONDS);
    channel.runScheduledPendingTasks();
    assertThat(answered(channel)).startsWith("HTTP/1.1 408 ");
    assertThat(rejected).containsExactly("head-timeout");
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void anIdleKeepAliveConnectionIsNotAHeadTimeout() {
    EmbeddedChannel channel = channel();
    channel.writeInbound(bytes(GET));
    channel.advanceTimeBy(5, TimeUnit.SECONDS);
    channel.runScheduledPendingTasks();
    assertThat(channel.isOpen()).isTrue();
    assertThat(rejected).isEmpty();
  }

  @Test
  void afterSwitchingProtocolsBytesPassUntouched() {
    EmbeddedChannel channel = channel();
    channel.writeInbound(
        bytes("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"));
    passed(channel);
    channel.writeOutbound(
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS));
    answered(channel);
    channel.writeInbound(bytes("\u0081\u0085not http at all\n\n"));
    assertThat(passed(channel)).isEqualTo("\u0081\u0085not http at all\n\n");
    assertThat(rejected).isEmpty();
  }

  @Test
  void limitsAreInclusive() {
    EmbeddedChannel channel = channel();
    String target = "/" + "a".repeat(64 - "GET  HTTP/1.1".length() - 1);
    String line = "GET " + target + " HTTP/1.1";
    assertThat(line).hasSize(64);
    String eightFields = "Host: a\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\n";
    String request = line + "\r\n" + eightFields + "\r\n";
    channel.writeInbound(bytes(request));
    assertThat(passed(channel)).isEqualTo(request);
    assertThat(rejected).isEmpty();
  }
}
