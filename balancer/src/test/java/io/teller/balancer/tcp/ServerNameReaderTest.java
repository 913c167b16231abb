package io.teller.balancer.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SniCompletionEvent;
import io.teller.balancer.resilience.Failure;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;

/**
 * The server name of real ClientHellos (made by the JDK's TLS engine) read by Netty's ClientHello
 * handling ({@link ServerNameReader}), the hello's bytes passed on whole to the next handler; bad
 * hellos and silence failed with the cause named. (Half-close and the relay run end to end in
 * {@link TcpForwardingTest}.)
 */
class ServerNameReaderTest {

  /** The first bytes a JDK TLS client sends, naming {@code serverName} (or none when null). */
  static byte[] clientHello(String serverName, String... protocols) throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, null, null);
    SSLEngine engine = context.createSSLEngine();
    engine.setUseClientMode(true);
    SSLParameters parameters = engine.getSSLParameters();
    parameters.setServerNames(
        serverName == null ? List.of() : List.of(new SNIHostName(serverName)));
    if (protocols.length > 0) {
      parameters.setProtocols(protocols);
    }
    engine.setSSLParameters(parameters);
    ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    engine.wrap(ByteBuffer.allocate(0), out);
    out.flip();
    byte[] bytes = new byte[out.remaining()];
    out.get(bytes);
    return bytes;
  }

  /** A channel with a reader and, after it, what the reader passes on and tells. */
  static final class Reading {
    final EmbeddedChannel channel;
    final ServerNameReader reader;
    Future<String> name;
    final ByteBuf passed = Unpooled.buffer();

    Reading(long timeoutMillis) {
      reader = new ServerNameReader(TcpConnection.MAX_HELLO_BYTES, timeoutMillis);
      channel = new EmbeddedChannel();
      channel.freezeTime();
      channel
          .pipeline()
          .addLast(
              reader,
              new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                  ByteBuf bytes = (ByteBuf) msg;
                  passed.writeBytes(bytes);
                  bytes.release();
                }

                @Override
                public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
                  if (event instanceof SniCompletionEvent done) {
                    name = reader.outcome(done);
                  }
                }
              });
    }

    void write(byte[] bytes) {
      channel.writeInbound(Unpooled.wrappedBuffer(bytes));
    }

    byte[] passed() {
      byte[] bytes = new byte[passed.readableBytes()];
      passed.getBytes(passed.readerIndex(), bytes);
      return bytes;
    }

    Failure failure() {
      assertThat(name).isNotNull();
      assertThat(name.failed()).isTrue();
      return (Failure) name.cause();
    }
  }

  @Test
  void readsTheServerNameAndPassesTheHelloAndWhatFollowsOn() throws Exception {
    byte[] hello = clientHello("Shop.Example.COM");
    Reading read = new Reading(5_000);
    read.write(hello);
    assertThat(read.name.result()).isEqualTo("shop.example.com");
    read.write("more".getBytes(StandardCharsets.US_ASCII));
    byte[] passed = read.passed();
    assertThat(java.util.Arrays.copyOf(passed, hello.length)).isEqualTo(hello);
    assertThat(new String(passed, hello.length, 4, StandardCharsets.US_ASCII)).isEqualTo("more");
    assertThat(read.channel.pipeline().get(ServerNameReader.class)).isNull();
  }

  @Test
  void readsATls12HelloAndOneWithoutAName() throws Exception {
    Reading tls12 = new Reading(5_000);
    tls12.write(clientHello("a.test", "TLSv1.2"));
    assertThat(tls12.name.result()).isEqualTo("a.test");
    Reading nameless = new Reading(5_000);
    nameless.write(clientHello(null));
    assertThat(nameless.name.succeeded()).isTrue();
    assertThat(nameless.name.result()).isNull();
  }

  @Test
  void aHelloSplitOverTwoRecordsAndTwoWritesIsReassembled() throws Exception {
    byte[] hello = clientHello("split.test");
    int payload = hello.length - 5;
    int first = payload / 2;
    Buffer split =
        Buffer.buffer()
            .appendBytes(new byte[] {22, 3, 1})
            .appendUnsignedShort(first)
            .appendBytes(hello, 5, first)
            .appendBytes(new byte[] {22, 3, 1})
            .appendUnsignedShort(payload - first)
            .appendBytes(hello, 5 + first, payload - first);
    Reading read = new Reading(5_000);
    read.write(split.getBytes(0, 5 + first + 3));
    assertThat(read.name).isNull();
    read.write(split.getBytes(5 + first + 3, split.length()));
    assertThat(read.name.result()).isEqualTo("split.test");
    assertThat(read.passed()).isEqualTo(split.getBytes());
  }

  @Test
  void plainTextAnOversizedHelloAndSilenceAreBadHellos() throws Exception {
    Reading plain = new Reading(5_000);
    plain.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    Failure failure = plain.failure();
    assertThat(failure.kind()).isEqualTo(Failure.Kind.BAD_HELLO);
    assertThat(failure.fault()).isEqualTo(Failure.Fault.CLIENT);
    assertThat(failure.reason()).isEqualTo("not a TLS ClientHello");

    // A handshake record whose ClientHello claims more than 16 KiB.
    Reading huge = new Reading(5_000);
    try {
      huge.write(
          Buffer.buffer()
              .appendBytes(new byte[] {22, 3, 1})
              .appendUnsignedShort(4)
              .appendByte((byte) 1)
              .appendMedium(20_000)
              .getBytes());
    } catch (io.netty.handler.codec.DecoderException e) {
      // The decoder's exception reaches the end of the embedded pipeline.
    }
    assertThat(huge.failure().reason()).isEqualTo("ClientHello over 16384 bytes");

    Reading silent = new Reading(300);
    silent.channel.advanceTimeBy(250, TimeUnit.MILLISECONDS);
    silent.channel.runScheduledPendingTasks();
    assertThat(silent.name).isNull();
    silent.channel.advanceTimeBy(100, TimeUnit.MILLISECONDS);
    silent.channel.runScheduledPendingTasks();
    assertThat(silent.failure().reason()).isEqualTo("no TLS ClientHello within 300 ms");
    // Netty closes the connection.
    assertThat(silent.channel.isOpen()).isFalse();
  }
}
