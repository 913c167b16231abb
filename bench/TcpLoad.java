import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The TCP benchmark's client, plain JDK sockets against an echo server on 127.0.0.1.
 *
 * <pre>
 * java bench/TcpLoad.java bulk PORT SECONDS STREAMS       # streams of 64 KiB writes, echoed back
 * java bench/TcpLoad.java conns PORT SECONDS CONCURRENCY  # connect, 64 bytes there and back, close
 * </pre>
 *
 * Prints one line of {@code key=value} figures: for bulk the MiB/s that made the round trip
 * (each way); for conns the connections per second and the p50/p99 time of one whole connection.
 */
public class TcpLoad {

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[1]);
    long seconds = Long.parseLong(args[2]);
    int workers = Integer.parseInt(args[3]);
    if (args[0].equals("bulk")) {
      bulk(port, seconds, workers);
    } else {
      conns(port, seconds, workers);
    }
  }

  static void bulk(int port, long seconds, int streams) throws Exception {
    AtomicLong received = new AtomicLong();
    AtomicBoolean running = new AtomicBoolean(true);
    List<Socket> sockets = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < streams; i++) {
      Socket socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
      sockets.add(socket);
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      threads.add(new Thread(() -> {
        byte[] chunk = new byte[64 * 1024];
        try {
          while (running.get()) {
            out.write(chunk);
          }
        } catch (IOException e) {
          // closed at the end of the run
        }
      }));
      threads.add(new Thread(() -> {
        byte[] buffer = new byte[64 * 1024];
        try {
          int n;
          while ((n = in.read(buffer)) > 0) {
            if (running.get()) {
              received.addAndGet(n);
            }
          }
        } catch (IOException e) {
          // closed at the end of the run
        }
      }));
    }
    long start = System.nanoTime();
    threads.forEach(Thread::start);
    Thread.sleep(seconds * 1000);
    running.set(false);
    long bytes = received.get();
    double elapsed = (System.nanoTime() - start) / 1e9;
    for (Socket socket : sockets) {
      socket.close();
    }
    System.out.printf("result mode=bulk streams=%d seconds=%.1f mib_s=%.0f%n", streams, elapsed,
        bytes / elapsed / 1024 / 1024);
  }

  static void conns(int port, long seconds, int concurrency) throws Exception {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    List<long[]> latencies = new ArrayList<>();
    int[] counts = new int[concurrency];
    AtomicLong errors = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    byte[] message = new byte[64];
    Arrays.fill(message, (byte) 'x');
    for (int i = 0; i < concurrency; i++) {
      long[] mine = new long[200_000];
      latencies.add(mine);
      int index = i;
      threads.add(new Thread(() -> {
        while (System.nanoTime() < deadline) {
          long begin = System.nanoTime();
          try (Socket socket = new Socket()) {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(5_000);
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
            socket.getOutputStream().write(message);
            byte[] back = socket.getInputStream().readNBytes(message.length);
            if (back.length != message.length) {
              errors.incrementAndGet();
              continue;
            }
          } catch (IOException e) {
            errors.incrementAndGet();
            continue;
          }
          if (counts[index] < mine.length) {
            mine[counts[index]++] = System.nanoTime() - begin;
          }
        }
      }));
    }
    long start = System.nanoTime();
    threads.forEach(Thread::start);
    for (Thread thread : threads) {
      thread.join();
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    int total = Arrays.stream(counts).sum();
    long[] all = new long[total];
    int at = 0;
    for (int i = 0; i < concurrency; i++) {
      System.arraycopy(latencies.get(i), 0, all, at, counts[i]);
      at += counts[i];
    }
    Arrays.sort(all);
    System.out.printf("result mode=conns concurrency=%d seconds=%.1f conn_s=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d%n",
        concurrency, elapsed, total / elapsed, total == 0 ? 0 : all[total / 2] / 1e6,
        total == 0 ? 0 : all[Math.min(total - 1, (int) (total * 0.99))] / 1e6, errors.get());
  }
}
