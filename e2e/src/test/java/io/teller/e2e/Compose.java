package io.teller.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The project's docker-compose.yml driven through the real compose command ({@code docker compose}
 * when the engine's CLI has it, else {@code docker-compose} v1), as one compose project of its own
 * so that a test never touches a stack a user runs.
 */
final class Compose {

  private final List<String> command;
  private final Path root;
  private final String project;
  private final Map<String, String> env;

  private Compose(List<String> command, Path root, String project, Map<String, String> env) {
    this.command = command;
    this.root = root;
    this.project = project;
    this.env = env;
  }

  /**
   * A compose command, if a Docker engine answers here; empty, with the reason in {@code why},
   * otherwise.
   */
  static Optional<List<String>> detect(StringBuilder why) {
    if (!succeeds(List.of("docker", "info"))) {
      why.append("no Docker engine answers (`docker info` failed)");
      return Optional.empty();
    }
    if (succeeds(List.of("docker", "compose", "version"))) {
      return Optional.of(List.of("docker", "compose"));
    }
    if (succeeds(List.of("docker-compose", "version"))) {
      return Optional.of(List.of("docker-compose"));
    }
    why.append("a Docker engine answers, but neither `docker compose` nor `docker-compose` runs");
    return Optional.empty();
  }

  static Compose of(List<String> command, Path root, String project, Map<String, String> env) {
    return new Compose(command, root, project, new HashMap<>(env));
  }

  String project() {
    return project;
  }

  /** Runs {@code compose -p PROJECT ARGS...}; its output, or a failure with it. */
  String run(Duration timeout, String... args) {
    List<String> full = new ArrayList<>(command);
    full.addAll(List.of("-p", project, "-f", root.resolve("docker-compose.yml").toString()));
    full.addAll(Arrays.asList(args));
    return exec(full, timeout, true);
  }

  /** Runs {@code docker ARGS...}. */
  String docker(Duration timeout, String... args) {
    List<String> full = new ArrayList<>(List.of("docker"));
    full.addAll(Arrays.asList(args));
    return exec(full, timeout, true);
  }

  /** The host port on 127.0.0.1 that a service's container port is published on. */
  int port(String service, int containerPort) {
    String out = run(Duration.ofSeconds(30), "port", service, String.valueOf(containerPort)).trim();
    return Integer.parseInt(out.substring(out.lastIndexOf(':') + 1));
  }

  /** The ids of a service's running containers ({@code compose ps -q} lists stopped ones too). */
  List<String> containers(String service) {
    String out =
        docker(
            Duration.ofSeconds(30),
            "ps",
            "-q",
            "--filter",
            "label=com.docker.compose.project=" + project,
            "--filter",
            "label=com.docker.compose.service=" + service);
    return Arrays.stream(out.split("\\s+")).filter(s -> !s.isBlank()).toList();
  }

  /** Every container, volume and network labelled as this project's, as {@code kind id} lines. */
  List<String> leftovers() {
    List<String> left = new ArrayList<>();
    String label = "label=com.docker.compose.project=" + project;
    for (String kind : List.of("container", "volume", "network")) {
      List<String> args =
          kind.equals("container")
              ? List.of("ps", "-aq", "--filter", label)
              : List.of(kind, "ls", "-q", "--filter", label);
      for (String id : docker(Duration.ofSeconds(30), args.toArray(String[]::new)).split("\\s+")) {
        if (!id.isBlank()) {
          left.add(kind + " " + id);
        }
      }
    }
    return left;
  }

  /** Everything the services said, for whoever reads a failure. */
  void saveLogs(Path file) {
    try {
      Files.createDirectories(file.getParent());
      List<String> full = new ArrayList<>(command);
      full.addAll(
          List.of(
              "-p",
              project,
              "-f",
              root.resolve("docker-compose.yml").toString(),
              "logs",
              "--no-color"));
      Files.writeString(file, exec(full, Duration.ofSeconds(60), false));
    } catch (IOException | RuntimeException e) {
      // Logs are a courtesy; the test's own result stands.
    }
  }

  private String exec(List<String> full, Duration timeout, boolean check) {
    try {
      ProcessBuilder builder = new ProcessBuilder(full).directory(root.toFile());
      builder.environment().putAll(env);
      builder.redirectErrorStream(true);
      Path out = Files.createTempFile("compose", ".out");
      builder.redirectOutput(out.toFile());
      Process process = builder.start();
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new IllegalStateException(
            String.join(" ", full) + " did not finish within " + timeout + ":\n" + read(out));
      }
      String output = read(out);
      Files.deleteIfExists(out);
      if (check && process.exitValue() != 0) {
        throw new IllegalStateException(
            String.join(" ", full) + " exited with " + process.exitValue() + ":\n" + output);
      }
      return output;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static String read(Path file) throws IOException {
    return Files.readString(file, StandardCharsets.UTF_8);
  }

  private static boolean succeeds(List<String> command) {
    try {
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return false;
      }
      return process.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
