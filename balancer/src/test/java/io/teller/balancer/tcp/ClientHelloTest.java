package io.teller.balancer.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;

/** The ClientHello reader on real ClientHellos, made by the JDK's TLS engine. */
class ClientHelloTest {

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

  @Test
  void readsTheServerNameOfTls13AndTls12Hellos() throws Exception {
    assertThat(ClientHello.read(Buffer.buffer(clientHello("shop.example.com"))))
        .isEqualTo(new ClientHello.Hello("shop.example.com"));
    assertThat(ClientHello.read(Buffer.buffer(clientHello("Mixed.Case.Test", "TLSv1.2"))))
        .isEqualTo(new ClientHello.Hello("mixed.case.test"));
  }

  @Test
  void aHelloWithoutServerNameIsWholeButNamesNone() throws Exception {
    assertThat(ClientHello.read(Buffer.buffer(clientHello(null))))
        .isEqualTo(new ClientHello.Hello(null));
  }

  @Test
  void asksForMoreUntilTheRecordIsWhole() throws Exception {
    byte[] hello = clientHello("a.test");
    for (int length : new int[] {0, 1, 4, 5, 9, hello.length - 1}) {
      assertThat(ClientHello.read(Buffer.buffer(hello).slice(0, length)))
          .as("first %d bytes", length)
          .isInstanceOf(ClientHello.NeedMore.class);
    }
    // Bytes after the hello (the client's next records) do not disturb it.
    assertThat(ClientHello.read(Buffer.buffer(hello).appendString("more")))
        .isEqualTo(new ClientHello.Hello("a.test"));
  }

  @Test
  void aHelloSplitOverTwoRecordsIsReassembled() throws Exception {
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
    assertThat(ClientHello.read(split.slice(0, 5 + first + 3)))
        .isInstanceOf(ClientHello.NeedMore.class);
    assertThat(ClientHello.read(split)).isEqualTo(new ClientHello.Hello("split.test"));
  }

  @Test
  void plainTextAndOversizedHellosAreNotTls() {
    assertThat(ClientHello.read(Buffer.buffer("GET / HTTP/1.1\r\nHost: a\r\n\r\n")))
        .isInstanceOf(ClientHello.NotTls.class);
    // A handshake record whose ClientHello claims more than 16 KiB.
    Buffer huge =
        Buffer.buffer()
            .appendBytes(new byte[] {22, 3, 1})
            .appendUnsignedShort(4)
            .appendByte((byte) 1)
            .appendMedium(20_000);
    assertThat(ClientHello.read(huge)).isInstanceOf(ClientHello.NotTls.class);
    // Records that never complete a hello stop at the limit.
    Buffer endless = Buffer.buffer().appendBytes(new byte[] {22, 3, 1}).appendUnsignedShort(16_000);
    endless.appendBytes(new byte[16_000]);
    assertThat(ClientHello.read(endless)).isInstanceOf(ClientHello.NotTls.class);
  }
}
