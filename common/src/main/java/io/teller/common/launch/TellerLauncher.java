package io.teller.common.launch;

import io.teller.common.cluster.ClusterOptions;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.config.CommonSettings;
import io.teller.common.config.ConfigException;
import io.teller.common.config.ConfigLoader;
import io.teller.common.config.Setting;
import io.teller.common.config.TellerConfig;
import io.vertx.core.Deployable;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.transport.Transport;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * The {@code main} of every Teller program: reads the layered configuration, joins the cluster
 * (unless the program runs without it, see {@link TellerProgram#joinsCluster}), deploys the
 * program's verticle and leaves the cluster cleanly on SIGTERM.
 *
 * <p>On SIGTERM the shutdown hook closes Vert.x (so the verticle's {@code stop()} runs to its end,
 * within 30 s) and the JVM then exits with 143 (128 + SIGTERM), as every JVM does after a signal;
 * orchestrators count that as a normal stop.
 *
 * <p>Hand-written rather than {@code VertxApplication} because the cluster settings come from the
 * layered configuration, which must be read before the clustered Vert.x exists, and because a
 * user's mistake must end in one line and exit code 2, not a stack trace.
 */
public final class TellerLauncher {

  /** Exit code for a failure that is not a configuration mistake (a port in use...). */
  public static final int EXIT_FAILURE = 1;

  private static final long SHUTDOWN_SECONDS = 30;

  private final TellerProgram program;
  private final Logger log;

  private TellerLauncher(TellerProgram program) {
    this.program = program;
    this.log = LoggerFactory.getLogger("teller." + program.name());
  }

  /** Runs {@code program} with command-line {@code args}; exits the JVM on failure. */
  public static void main(TellerProgram program, String[] args) {
    System.setProperty(
        "vertx.logger-delegate-factory-class-name",
        "io.vertx.core.logging.SLF4JLogDelegateFactory");
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    int exit = new TellerLauncher(program).run(args, System.getenv());
    if (exit >= 0) {
      System.exit(exit);
    }
  }

  /** Returns an exit code to exit with, or -1 to keep running. */
  private int run(String[] args, Map<String, String> env) {
    long started = System.nanoTime();
    TellerConfig config;
    boolean printConfig;
    try {
      Arguments arguments = Arguments.parse(args, env);
      if (arguments.help()) {
        printHelp(System.out);
        return 0;
      }
      printConfig = arguments.printConfig();
      config = loadConfig(arguments.configFile());
      program.check(config);
    } catch (ConfigException e) {
      log.error("{}: {}", program.name(), e.getMessage());
      return ConfigException.EXIT_CODE;
    }
    if (printConfig) {
      PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
      config.describe().forEach(out::println);
      return 0;
    }

    TellerCluster cluster = null;
    if (program.joinsCluster(config)) {
      try {
        cluster =
            joinCluster(
                ClusterOptions.from(config, program.role())
                    .withListeners(program.listeners(config)),
                config);
      } catch (ConfigException e) {
        log.error("{}: {}", program.name(), e.getMessage());
        return ConfigException.EXIT_CODE;
      } catch (Exception e) {
        log.error(
            "{}: cannot join cluster '{}': {}",
            program.name(),
            config.string(CommonSettings.CLUSTER_NAME),
            oneLine(e));
        return EXIT_FAILURE;
      }
    }
    // TellerCluster.close() is vertx.close(), so both kinds of run stop the same way.
    Vertx vertx = cluster != null ? cluster.vertx() : Vertx.vertx();
    try {
      Deployable verticle =
          cluster != null ? program.verticle(config, cluster) : program.standaloneVerticle(config);
      await(vertx.deployVerticle(verticle));
    } catch (Exception e) {
      Throwable cause = e instanceof ConfigException ? e : rootCause(e);
      log.error("{}: cannot start: {}", program.name(), oneLine(cause));
      closeQuietly(vertx);
      return cause instanceof ConfigException ? ConfigException.EXIT_CODE : EXIT_FAILURE;
    }
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  log.info("{} stopping", program.name());
                  closeQuietly(vertx);
                  log.info("{} stopped", program.name());
                },
                "teller-shutdown"));
    log.info(
        "{} ready in {} ms",
        program.name(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    return -1;
  }

  /** Joins; a lite member waits, with backoff, for the first registry node to be up. */
  private TellerCluster joinCluster(ClusterOptions options, TellerConfig config)
      throws InterruptedException {
    long backoffMillis = 250;
    boolean told = false;
    Transport transport = program.transport(config);
    while (true) {
      try {
        return await(
            TellerCluster.join(
                options, program.vertxOptions(config), program.metricsFactory(config), transport));
      } catch (TellerCluster.NoRegistryException e) {
        if (!told) {
          log.warn(
              "{}: {}; waiting for one at {}", program.name(), e.getMessage(), options.seeds());
          told = true;
        }
        Thread.sleep(backoffMillis);
        backoffMillis = Math.min(backoffMillis * 2, 5_000);
      }
    }
  }

  private TellerConfig loadConfig(Optional<Path> file) {
    List<Setting> settings = new ArrayList<>(CommonSettings.ALL);
    settings.addAll(program.settings());
    Vertx plain = Vertx.vertx();
    try {
      return await(ConfigLoader.load(plain, program.defaultsResource(), file, settings));
    } catch (ConfigException e) {
      throw e;
    } catch (Exception e) {
      throw rootCause(e) instanceof ConfigException ce ? ce : new ConfigException(oneLine(e));
    } finally {
      plain.close();
    }
  }

  private void printHelp(PrintStream out) {
    out.println(
        "usage: java -jar teller-" + program.name() + ".jar [--conf FILE] [--print-config]");
    out.println();
    out.println("  --conf FILE      YAML configuration file (or TELLER_CONFIG=FILE)");
    out.println("  --print-config   print the effective configuration and exit");
    out.println();
    out.println("settings (YAML path, or environment variable):");
    List<Setting> settings = new ArrayList<>(CommonSettings.ALL);
    settings.addAll(program.settings());
    for (Setting s : settings) {
      out.printf("  %-28s %-22s %s%n", s.env(), s.path(), s.description());
    }
  }

  /** Undeploys the program's verticle (its stop() runs) and, if clustered, leaves the cluster. */
  private void closeQuietly(Vertx vertx) {
    try {
      vertx
          .close()
          .toCompletionStage()
          .toCompletableFuture()
          .get(SHUTDOWN_SECONDS, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("{}: did not stop cleanly: {}", program.name(), oneLine(e));
    }
  }

  private static <T> T await(Future<T> future) throws ConfigException {
    try {
      return future.toCompletionStage().toCompletableFuture().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof ConfigException ce) {
        throw ce;
      }
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(cause);
    }
  }

  private static Throwable rootCause(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null
        && root.getCause() != root
        && !(root instanceof ConfigException)) {
      root = root.getCause();
    }
    return root;
  }

  private static String oneLine(Throwable e) {
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }

  /** The command line: {@code --conf FILE}, {@code --print-config}, {@code --help}. */
  record Arguments(Optional<Path> configFile, boolean printConfig, boolean help) {

    static Arguments parse(String[] args, Map<String, String> env) {
      Optional<Path> file =
          Optional.ofNullable(env.get(ConfigLoader.CONFIG_FILE_ENV))
              .filter(s -> !s.isBlank())
              .map(Path::of);
      boolean print = false;
      boolean help = false;
      for (int i = 0; i < args.length; i++) {
        String arg = args[i];
        if (arg.equals("--conf") || arg.equals("-c")) {
          if (i + 1 >= args.length) {
            throw new ConfigException("option " + arg + " needs a file name");
          }
          file = Optional.of(Path.of(args[++i]));
        } else if (arg.startsWith("--conf=")) {
          file = Optional.of(Path.of(arg.substring("--conf=".length())));
        } else if (arg.equals("--print-config")) {
          print = true;
        } else if (arg.equals("--help") || arg.equals("-h")) {
          help = true;
        } else {
          throw new ConfigException("unknown option \"" + arg + "\" (try --help)");
        }
      }
      return new Arguments(file, print, help);
    }
  }
}
