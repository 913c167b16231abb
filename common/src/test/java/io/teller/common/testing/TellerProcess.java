package io.teller.common.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Teller program run as a real process ({@code java -jar}), its output captured line by line.
 * {@link #close()} stops it: SIGTERM, then SIGKILL if it has not exited in 15 s.
 */
public final class TellerProcess implements AutoCloseable {

  private final Process process;
  private final List<String> lines = new ArrayList<>();
  private final Thread reader;

  private TellerProcess(Process process) {
    this.process = process;
    this.reader = new Thread(this::pump, "output-of-" + process.pid());
    this.reader.setDaemon(true);
    this.reader.start();
  }

  /** The jar that Failsafe names in the {@code teller.jar} system property. */
  public static Path moduleJar() {
    String jar = System.getProperty("teller.jar");
    if (jar == null || !Files.isRegularFile(Path.of(jar))) {
      throw new IllegalStateException("run through Failsafe after package: teller.jar=" + jar);
    }
    return Path.of(jar);
  }

  /**
   * The jar of a program module ({@code registry}, {@code balancer}, {@code sample-backend}) from
   * the project root in the {@code teller.root} system property, or the parent of the working
   * directory (a module's directory under Maven).
   */
  public static Path programJar(String module) {
    Path root = Path.of(System.getProperty("teller.root", ".."));
    Path jar =
        root.resolve(module)
            .resolve("target")
            .resolve("teller-" + module + ".jar")
            .toAbsolutePath()
            .normalize();
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("program jar not built: " + jar);
    }
    return jar;
  }

  /** The jar of a sibling module, e.g. {@code registry}, next to this module's. */
  public static Path siblingJar(String module) {
    Path jar =
        moduleJar()
            .toAbsolutePath()
            .getParent()
            .getParent()
            .getParent()
            .resolve(module)
            .resolve("target")
            .resolve("teller-" + module + ".jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("sibling jar not built: " + jar);
    }
    return jar;
  }

  /**
   * Starts {@code java -jar jar args...} with {@code env} added to a copy of this process's
   * environment from which every {@code TELLER_*} variable has been removed.
   */
  public static TellerProcess start(Path jar, Map<String, String> env, String... args) {
    return start(jar, List.of(), env, args);
  }

  /**
   * As {@link #start(Path, Map, String...)}, with {@code jvmOptions} after the defaults ({@code
   * -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}), so that they win: {@code -Xmx128m} runs
   * the program with a 128 MiB heap.
   */
  public static TellerProcess start(
      Path jar, List<String> jvmOptions, Map<String, String> env, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.add("-XX:+UseSerialGC");
    command.add("-XX:TieredStopAtLevel=1");
    command.addAll(jvmOptions);
    command.add("-jar");
    command.add(jar.toString());
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().keySet().removeIf(key -> key.startsWith("TELLER_"));
    builder.environment().putAll(env);
    try {
      return new TellerProcess(builder.start());
    } catch (IOException e) {
      throw new IllegalStateException("cannot start " + command, e);
    }
  }

  private void pump() {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        synchronized (lines) {
          lines.add(line);
          lines.notifyAll();
        }
      }
    } catch (IOException e) {
      // The process is gone; what it said so far stays in lines.
    }
  }

  /** Waits for a line matching {@code regex}; fails with the output so far if none comes. */
  public Matcher awaitLine(String regex, Duration within) throws InterruptedException {
    Pattern pattern = Pattern.compile(regex);
    long deadline = System.nanoTime() + within.toNanos();
    int checked = 0;
    synchronized (lines) {
      while (true) {
        for (; checked < lines.size(); checked++) {
          Matcher m = pattern.matcher(lines.get(checked));
          if (m.find()) {
            return m;
          }
        }
        long left = deadline - System.nanoTime();
        if (left <= 0 || (!process.isAlive() && !reader.isAlive())) {
          throw new AssertionError(
              "no line matching /"
                  + regex
                  + "/ within "
                  + within
                  + "; output:\n"
                  + String.join("\n", lines));
        }
        lines.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(Math.min(left, 200_000_000L))));
      }
    }
  }

  /** Waits for the process to exit by itself and returns its exit code. */
  public int awaitExit(Duration within) throws InterruptedException {
    if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("process did not exit within " + within + "; output:\n" + output());
    }
    reader.join(5_000);
    return process.exitValue();
  }

  /** Everything the process printed so far. */
  public String output() {
    synchronized (lines) {
      return String.join("\n", lines);
    }
  }

  /** The process's id, e.g. to signal it. */
  public long pid() {
    return process.pid();
  }

  /** Whether the process is still running. */
  public boolean isAlive() {
    return process.isAlive();
  }

  /** The command line it was started with, as the operating system reports it (may be empty). */
  public List<String> commandLine() {
    return process.info().arguments().map(List::of).orElse(List.of());
  }

  /** SIGKILL, as a crash would. */
  public void kill() throws InterruptedException {
    // Through the handle: Process.destroy* would also close the pipes and lose the last lines.
    process.toHandle().destroyForcibly();
    process.waitFor(15, TimeUnit.SECONDS);
  }

  /** SIGTERM and wait; returns the exit code, if it exited. */
  public Optional<Integer> terminate(Duration within) throws InterruptedException {
    process.toHandle().destroy();
    if (process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
      return Optional.of(process.exitValue());
    }
    return Optional.empty();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive() && terminate(Duration.ofSeconds(15)).isEmpty()) {
      kill();
    }
  }
}
