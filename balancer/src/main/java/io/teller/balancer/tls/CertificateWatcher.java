package io.teller.balancer.tls;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.FileProps;
import io.vertx.core.http.HttpServer;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads the HTTPS listener's certificates when their files are replaced, without a restart: new
 * handshakes get the new certificate, open connections carry on with the one they negotiated.
 *
 * <p>Every interval (1 s by default) it compares each certificate and key file's modification time
 * and size with what it saw last. On a change it reads all files, checks that each key matches its
 * certificate, and hands the contents to {@code HttpServer.updateSSLOptions}. All of it is
 * asynchronous: files through {@code vertx.fileSystem()}, parsing on a worker thread; the event
 * loop never blocks. Polling rather than a file-system watch service, because it also sees files
 * replaced through symlinks (Kubernetes secrets) and on network file systems.
 *
 * <p>A reload logs one line. A file that is missing, half written, or a key that does not match its
 * certificate (one file of a pair is often replaced a moment before the other) is logged once and
 * changes nothing: the current certificate stays until the files change again and load.
 */
public final class CertificateWatcher {

  private static final Logger LOG = LoggerFactory.getLogger("teller.tls");

  /** How often the files are checked unless told otherwise. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(1);

  private final Vertx vertx;
  private final HttpServer server;
  private final TlsOptions tls;
  private final List<Path> files;
  private final AtomicLong reloads = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final long timerId;
  private volatile boolean stopped;
  // Touched only on the timer's context: no synchronisation needed.
  private List<Stamp> seen;
  private boolean checking;

  private CertificateWatcher(
      Vertx vertx, HttpServer server, TlsOptions tls, List<Stamp> initial, Duration interval) {
    this.vertx = vertx;
    this.server = server;
    this.tls = tls;
    this.files = files(tls);
    this.seen = initial;
    this.timerId = vertx.setPeriodic(interval.toMillis(), id -> check());
  }

  /**
   * Starts watching the files of {@code tls} for {@code server}, which must have been started with
   * the same {@code tls} ({@link TlsOptions#applyTo}), checking every second.
   *
   * @return the watcher, once it has noted the files' current state
   */
  public static Future<CertificateWatcher> start(Vertx vertx, HttpServer server, TlsOptions tls) {
    return start(vertx, server, tls, DEFAULT_INTERVAL);
  }

  /** As {@link #start(Vertx, HttpServer, TlsOptions)}, checking every {@code interval}. */
  public static Future<CertificateWatcher> start(
      Vertx vertx, HttpServer server, TlsOptions tls, Duration interval) {
    if (interval.toMillis() < 1) {
      throw new IllegalArgumentException("interval must be at least 1 ms: " + interval);
    }
    return stamps(vertx, files(tls))
        .map(initial -> new CertificateWatcher(vertx, server, tls, initial, interval));
  }

  /** Stops checking; a reload already under way still completes. */
  public void stop() {
    stopped = true;
    vertx.cancelTimer(timerId);
  }

  /** How many reloads have changed the server's certificates so far. */
  public long reloads() {
    return reloads.get();
  }

  /** How many changes of the files could not be loaded, leaving the certificates as they were. */
  public long failures() {
    return failures.get();
  }

  private void check() {
    if (checking || stopped) {
      return; // the previous check is still reading or loading
    }
    checking = true;
    stamps(vertx, files)
        .compose(
            now -> {
              if (now.equals(seen)) {
                return Future.succeededFuture();
              }
              // Noted before loading, so that files that fail to load are reported once, and tried
              // again as soon as they change.
              seen = now;
              return reload();
            })
        .onComplete(ar -> checking = false);
  }

  private Future<Void> reload() {
    List<Future<Buffer>> reads =
        files.stream().map(file -> vertx.fileSystem().readFile(file.toString())).toList();
    return Future.all(reads)
        .compose(all -> vertx.executeBlocking(() -> load(all.<Buffer>list())))
        .compose(
            loaded ->
                update(loaded)
                    .map(
                        changed -> {
                          if (changed) {
                            reloads.incrementAndGet();
                            LOG.info("TLS certificate reloaded: {}", describe(loaded.leaves()));
                          } else {
                            LOG.debug("TLS certificate files changed, their content did not");
                          }
                          return (Void) null;
                        }))
        .onFailure(
            e -> {
              failures.incrementAndGet();
              LOG.warn("TLS certificate not reloaded, the current one stays: {}", e.getMessage());
            });
  }

  /**
   * Splits the contents (certificate, key, certificate, key, ...) into pairs, parses each and
   * proves each key matches its certificate. On a worker thread: parsing and signing is CPU work.
   */
  private Loaded load(List<Buffer> contents) {
    Loaded loaded = new Loaded(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    for (int i = 0; i < tls.pairs().size(); i++) {
      CertificatePair pair = tls.pairs().get(i);
      Buffer certificate = contents.get(2 * i);
      Buffer key = contents.get(2 * i + 1);
      try {
        loaded.leaves().add(Pem.checkPair(certificate.getBytes(), key.getBytes()));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            pair.certPath() + " / " + pair.keyPath() + ": " + e.getMessage(), e);
      }
      loaded.certificates().add(certificate);
      loaded.keys().add(key);
    }
    return loaded;
  }

  private Future<Boolean> update(Loaded loaded) {
    // updateSSLOptions throws rather than fails when the server is not listening.
    return Future.<Void>succeededFuture()
        .compose(
            v -> server.updateSSLOptions(tls.sslOptions(loaded.certificates(), loaded.keys())));
  }

  /** The files' contents, in the order of the pairs, and the parsed leaf certificates. */
  private record Loaded(
      List<Buffer> certificates, List<Buffer> keys, List<X509Certificate> leaves) {}

  private static String describe(List<X509Certificate> leaves) {
    return leaves.stream()
        .map(
            c ->
                c.getSubjectX500Principal().getName()
                    + " serial "
                    + c.getSerialNumber().toString(16)
                    + " valid until "
                    + c.getNotAfter().toInstant())
        .collect(Collectors.joining("; "));
  }

  /** Certificate, key, certificate, key, ... in the order of the pairs. */
  private static List<Path> files(TlsOptions tls) {
    List<Path> files = new ArrayList<>();
    for (CertificatePair pair : tls.pairs()) {
      files.add(pair.certPath());
      files.add(pair.keyPath());
    }
    return List.copyOf(files);
  }

  private static Future<List<Stamp>> stamps(Vertx vertx, List<Path> files) {
    List<Future<Stamp>> stamps =
        files.stream()
            .map(
                f -> vertx.fileSystem().props(f.toString()).map(Stamp::of).otherwise(Stamp.MISSING))
            .toList();
    return Future.all(stamps).map(all -> all.<Stamp>list());
  }

  /** What is compared between checks: a rewrite changes one or the other. */
  private record Stamp(long lastModified, long size) {
    static final Stamp MISSING = new Stamp(-1, -1);

    static Stamp of(FileProps props) {
      return new Stamp(props.lastModifiedTime(), props.size());
    }
  }
}
