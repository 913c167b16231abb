package io.teller.balancer.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A backend that records every byte it receives, as raw as they come, and answers {@code 200 ok} to
 * each request head it reads (a body by {@code Content-Length} or chunked is read first): what a
 * test needs to see exactly what the balancer let through.
 */
public final class RecordingBackend implements AutoCloseable {

  private final ServerSocket server;
  private final StringBuffer received = new StringBuffer();
  private final List<Socket> sockets = new ArrayList<>();
  private final Thread acceptor;

  public RecordingBackend() {
    try {
      server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    acceptor = new Thread(this::accept, "recording-backend");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  /** Everything received so far, on every connection, as ISO-8859-1 text. */
  public String received() {
    return received.toString();
  }

  public void clear() {
    received.setLength(0);
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        synchronized (sockets) {
          sockets.add(socket);
        }
        Thread reader = new Thread(() -> serve(socket), "recording-backend-connection");
        reader.setDaemon(true);
        reader.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(Socket socket) {
    try (socket;
        InputStream in = socket.getInputStream();
        OutputStream out = socket.getOutputStream()) {
      ByteArrayOutputStream pending = new ByteArrayOutputStream();
      byte[] buf = new byte[65536];
      for (int n; (n = in.read(buf)) > 0; ) {
        received.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
        pending.write(buf, 0, n);
        String text = pending.toString(StandardCharsets.ISO_8859_1);
        int consumed;
        while ((consumed = requestLength(text)) > 0) {
          out.write(
              "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
          out.flush();
          text = text.substring(consumed);
        }
        pending.reset();
        pending.write(text.getBytes(StandardCharsets.ISO_8859_1));
      }
    } catch (IOException e) {
      // the balancer closed or reset the connection
    }
  }

  /** The length of the first complete request in {@code text}, or 0. */
  static int requestLength(String text) {
    int headEnd = text.indexOf("\r\n\r\n");
    if (headEnd < 0) {
      return 0;
    }
    String head = text.substring(0, headEnd).toLowerCase();
    int bodyStart = headEnd + 4;
    if (head.contains("\r\ntransfer-encoding: chunked")) {
      int end = text.indexOf("\r\n0\r\n\r\n", bodyStart - 2);
      return end < 0 ? 0 : end + 7;
    }
    int at = head.indexOf("\r\ncontent-length:");
    if (at >= 0) {
      int lineEnd = head.indexOf("\r\n", at + 2);
      long length =
          Long.parseLong(head.substring(at + 17, lineEnd < 0 ? head.length() : lineEnd).trim());
      return text.length() - bodyStart >= length ? bodyStart + (int) length : 0;
    }
    return bodyStart;
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException e) {
      // closing anyway
    }
    synchronized (sockets) {
      for (Socket socket : sockets) {
        try {
          socket.close();
        } catch (IOException e) {
          // closing anyway
        }
      }
    }
  }
}
