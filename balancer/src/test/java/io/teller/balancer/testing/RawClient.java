package io.teller.balancer.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * Raw bytes to a listener, as an attacker sends them: over plain TCP or TLS (HTTP/1.1 by ALPN),
 * what came back, and whether the server closed the connection.
 */
public final class RawClient {

  /**
   * What a raw exchange gave.
   *
   * @param text every byte received, as ISO-8859-1
   * @param closed whether the server closed the connection (end of stream) within the wait
   */
  public record Result(String text, boolean closed) {
    /** The first line received, or an empty string. */
    public String statusLine() {
      int end = text.indexOf("\r\n");
      return end < 0 ? text : text.substring(0, end);
    }

    /** The status code of the first response, or 0. */
    public int status() {
      String line = statusLine();
      return line.startsWith("HTTP/1.") && line.length() >= 12
          ? Integer.parseInt(line.substring(9, 12))
          : 0;
    }
  }

  private RawClient() {}

  /**
   * Sends {@code request} and reads until the server closes the connection or stays silent for
   * {@code quietMillis}.
   *
   * @param tls the client's TLS context, or null for plain TCP
   */
  public static Result exchange(int port, SSLContext tls, String request, int quietMillis)
      throws IOException {
    try (Socket socket = open(port, tls)) {
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      socket.getOutputStream().flush();
      return read(socket, quietMillis);
    }
  }

  /** A connection to the listener on 127.0.0.1; TLS negotiates HTTP/1.1 by ALPN. */
  public static Socket open(int port, SSLContext tls) throws IOException {
    return open(port, tls, null);
  }

  /**
   * As {@link #open(int, SSLContext)}, from {@code local} (a loopback address such as 127.0.0.2).
   */
  public static Socket open(int port, SSLContext tls, InetAddress local) throws IOException {
    Socket plain =
        local == null
            ? new Socket(InetAddress.getLoopbackAddress(), port)
            : new Socket(InetAddress.getLoopbackAddress(), port, local, 0);
    if (tls == null) {
      return plain;
    }
    SSLSocket socket =
        (SSLSocket) tls.getSocketFactory().createSocket(plain, "localhost", port, true);
    SSLParameters parameters = socket.getSSLParameters();
    parameters.setApplicationProtocols(new String[] {"http/1.1"});
    socket.setSSLParameters(parameters);
    socket.startHandshake();
    return socket;
  }

  /**
   * Reads until a whole head has come (up to its blank line), the server closes, or {@code
   * timeoutMillis} have passed: for a connection that stays open after the head, such as a 101.
   */
  public static Result readHead(Socket socket, int timeoutMillis) throws IOException {
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
    InputStream in = socket.getInputStream();
    StringBuilder text = new StringBuilder();
    byte[] buf = new byte[8192];
    while (text.indexOf("\r\n\r\n") < 0) {
      long left = (deadline - System.nanoTime()) / 1_000_000L;
      if (left <= 0) {
        return new Result(text.toString(), false);
      }
      socket.setSoTimeout((int) left);
      int n;
      try {
        n = in.read(buf);
      } catch (SocketTimeoutException e) {
        return new Result(text.toString(), false);
      }
      if (n < 0) {
        return new Result(text.toString(), true);
      }
      text.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
    }
    return new Result(text.toString(), false);
  }

  /** Reads until end of stream or {@code quietMillis} without a byte. */
  public static Result read(Socket socket, int quietMillis) throws IOException {
    socket.setSoTimeout(quietMillis);
    InputStream in = socket.getInputStream();
    StringBuilder text = new StringBuilder();
    byte[] buf = new byte[8192];
    try {
      for (int n; ; ) {
        n = in.read(buf);
        if (n < 0) {
          return new Result(text.toString(), true);
        }
        text.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
      }
    } catch (SocketTimeoutException e) {
      return new Result(text.toString(), false);
    } catch (IOException e) {
      // A reset after the answer is a close too.
      return new Result(text.toString(), true);
    }
  }
}
