package io.teller.registry.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code ./teller status}: the cluster as a table a person reads, from a registry's REST API
 * ({@code /v1/services}, each service's {@code /instances}, {@code /v1/balancers}): services,
 * instances with status and weight, in flight per balancer and in total, requests per second,
 * errors and latency. {@code --watch} redraws it every second. Run with {@code java -cp
 * teller-registry.jar}; it starts no Vert.x, only the JDK's HTTP client and the JSON classes.
 *
 * <p>The registry: {@code --url}, else {@code TELLER_REGISTRY_URL}, else {@code
 * http://127.0.0.1:$TELLER_REGISTRY_PORT} (9000). Reads need no token; one is sent when given
 * ({@code TELLER_API_TOKEN}, or the file in {@code TELLER_API_TOKEN_FILE}), for registries behind a
 * proxy that asks for it.
 */
public final class StatusCommand {

  private static final String USAGE =
      "usage: teller status [--watch] [--url http://registry:9000]\n"
          + "  --watch   redraw every second (Ctrl-C stops)\n"
          + "  --url     the registry (default: $TELLER_REGISTRY_URL, else"
          + " http://127.0.0.1:$TELLER_REGISTRY_PORT, port 9000)";

  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(3))
          .build();
  private final String base;
  private final String token;
  private final boolean color;

  StatusCommand(String base, String token, boolean color) {
    this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    this.token = token;
    this.color = color;
  }

  public static void main(String[] args) throws Exception {
    boolean watch = false;
    String url = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--watch", "-w" -> watch = true;
        case "--url" -> {
          if (i + 1 >= args.length) {
            fail("--url needs a URL\n" + USAGE, 2);
          }
          url = args[++i];
        }
        case "--help", "-h" -> {
          System.out.println(USAGE);
          return;
        }
        default -> fail("unknown option " + args[i] + "\n" + USAGE, 2);
      }
    }
    Map<String, String> env = System.getenv();
    if (url == null) {
      url = env.getOrDefault("TELLER_REGISTRY_URL", "");
    }
    if (url.isBlank()) {
      url = "http://127.0.0.1:" + env.getOrDefault("TELLER_REGISTRY_PORT", "9000");
    }
    StatusCommand command = new StatusCommand(url, token(env), System.console() != null);
    if (!watch) {
      System.out.print(command.render());
      return;
    }
    while (true) {
      String screen;
      try {
        screen = command.render();
      } catch (IOException e) {
        screen = "teller: " + e.getMessage() + "\n";
      }
      // Home and clear, then the table: one write, so the screen never shows half a table.
      System.out.print("\033[H\033[2J" + screen + "\n(every second; Ctrl-C stops)\n");
      System.out.flush();
      Thread.sleep(1_000);
    }
  }

  private static String token(Map<String, String> env) throws IOException {
    String token = env.getOrDefault("TELLER_API_TOKEN", "");
    String file = env.getOrDefault("TELLER_API_TOKEN_FILE", "");
    if (token.isBlank() && !file.isBlank()) {
      token = Files.readString(Path.of(file), StandardCharsets.UTF_8).trim();
    }
    return token.isBlank() ? null : token;
  }

  private static void fail(String message, int code) {
    System.err.println("teller: " + message);
    System.exit(code);
  }

  /** The whole table, as text. */
  String render() throws IOException {
    JsonArray services = getArray("/v1/services");
    JsonArray balancers = getArray("/v1/balancers");
    List<String> members = new ArrayList<>();
    balancers.forEach(b -> members.add(((JsonObject) b).getString("member")));
    List<String> header = new ArrayList<>(List.of("SERVICE / INSTANCE", "STATUS", "WEIGHT"));
    members.forEach(m -> header.add("IN FLIGHT@" + shortId(m)));
    header.addAll(List.of("IN FLIGHT", "REQ/S", "5XX 1M", "P50 1M", "P99 1M", "EJECT 5M"));
    Table table = new Table(header, 2);
    int instanceCount = 0;
    double totalRate = 0;
    long totalInFlight = 0;
    for (Object s : services) {
      JsonObject service = (JsonObject) s;
      String name = service.getString("name");
      JsonArray instances = getArray("/v1/services/" + name + "/instances");
      table.section(name + "  (" + service.getString("strategy") + ", " + routes(service) + ")");
      if (instances.isEmpty()) {
        table.note("  no instance");
      }
      for (Object o : instances) {
        JsonObject i = (JsonObject) o;
        instanceCount++;
        JsonObject inFlight = i.getJsonObject("inFlight", new JsonObject());
        JsonObject byBalancer = inFlight.getJsonObject("byBalancer", new JsonObject());
        JsonObject traffic = i.getJsonObject("traffic", new JsonObject());
        String status = i.getString("status");
        if ("healthy".equals(status)
            && !traffic.getJsonArray("ejectedBy", new JsonArray()).isEmpty()) {
          status = "ejected";
        }
        List<String> row = new ArrayList<>();
        row.add("  " + i.getString("id") + "  " + i.getString("host") + ":" + i.getInteger("port"));
        row.add(paint(status));
        row.add(String.valueOf(i.getInteger("weight")));
        for (String m : members) {
          row.add(String.valueOf(byBalancer.getLong(m, 0L)));
        }
        long total = inFlight.getLong("total", 0L);
        double rate = traffic.getDouble("requestsPerSecond", 0.0);
        totalInFlight += total;
        totalRate += rate;
        row.add(String.valueOf(total));
        row.add(rate(rate));
        row.add(String.format(Locale.ROOT, "%.1f%%", traffic.getDouble("errorRate", 0.0) * 100));
        row.add(millis(traffic.getDouble("p50Ms")));
        row.add(millis(traffic.getDouble("p99Ms")));
        row.add(String.valueOf(traffic.getLong("ejections", 0L)));
        table.row(row);
      }
    }
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            Locale.ROOT,
            "Teller at %s  %s%n%d services, %d instances, %d balancers: %s req/s, %d in flight%n%n",
            base,
            LocalTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss")),
            services.size(),
            instanceCount,
            balancers.size(),
            rate(totalRate),
            totalInFlight));
    if (!balancers.isEmpty()) {
      Table b =
          new Table(
              List.of("BALANCER", "MEMBER", "ADDRESS", "CONNECTIONS", "REQ/S", "IN FLIGHT"), 3);
      for (Object o : balancers) {
        JsonObject balancer = (JsonObject) o;
        b.row(
            List.of(
                shortId(balancer.getString("member")),
                balancer.getString("member"),
                String.valueOf(balancer.getString("address")),
                String.valueOf(balancer.getLong("connections", 0L)),
                rate(balancer.getDouble("requestsPerSecond", 0.0)),
                String.valueOf(balancer.getLong("inFlight", 0L))));
      }
      out.append(b.render()).append('\n');
    } else {
      out.append("No balancer has reported to this registry.\n\n");
    }
    out.append(table.render());
    return out.toString();
  }

  private String paint(String status) {
    if (!color) {
      return status;
    }
    String code =
        switch (status) {
          case "healthy" -> "32";
          case "starting" -> "34";
          case "unhealthy" -> "31";
          case "draining" -> "33";
          case "ejected" -> "35";
          default -> "0";
        };
    return "\033[" + code + "m" + status + "\033[0m";
  }

  private static String routes(JsonObject service) {
    List<String> routes = new ArrayList<>();
    for (Object o : service.getJsonArray("routes", new JsonArray())) {
      JsonObject r = (JsonObject) o;
      String hosts =
          r.getJsonArray("hosts") == null
              ? ""
              : String.join(",", r.getJsonArray("hosts").getList()) + " ";
      routes.add(hosts + r.getString("pathPrefix", "/"));
    }
    return routes.isEmpty() ? "no route" : String.join(" | ", routes);
  }

  private static String shortId(String member) {
    return member == null ? "?" : member.substring(0, Math.min(8, member.length()));
  }

  private static String rate(double value) {
    return String.format(Locale.ROOT, value >= 100 ? "%.0f" : "%.1f", value);
  }

  private static String millis(Double value) {
    if (value == null) {
      return "-";
    }
    return value >= 1000
        ? String.format(Locale.ROOT, "%.2f s", value / 1000)
        : String.format(Locale.ROOT, value >= 10 ? "%.0f ms" : "%.1f ms", value);
  }

  private JsonArray getArray(String path) throws IOException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(5)).GET();
    if (token != null) {
      request.header("authorization", "Bearer " + token);
    }
    HttpResponse<String> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    } catch (IOException e) {
      throw new IOException(
          "the registry at " + base + " does not answer (" + e.getClass().getSimpleName() + ")", e);
    }
    if (response.statusCode() != 200) {
      throw new IOException(
          "the registry at " + base + " answered " + response.statusCode() + " to GET " + path);
    }
    return new JsonArray(response.body());
  }

  /** Columns padded to their widest cell; the text columns first, then numbers, right-aligned. */
  static final class Table {
    private final List<String> header;
    private final int textColumns;
    private final List<List<String>> rows = new ArrayList<>();

    /**
     * @param textColumns how many columns, from the first, are text (left-aligned)
     */
    Table(List<String> header, int textColumns) {
      this.header = header;
      this.textColumns = textColumns;
    }

    void row(List<String> cells) {
      rows.add(cells);
    }

    void section(String title) {
      rows.add(List.of("\u0000" + title));
    }

    void note(String text) {
      rows.add(List.of("\u0000" + text));
    }

    String render() {
      int[] widths = new int[header.size()];
      for (int c = 0; c < widths.length; c++) {
        widths[c] = header.get(c).length();
      }
      for (List<String> row : rows) {
        if (row.size() == widths.length) {
          for (int c = 0; c < widths.length; c++) {
            widths[c] = Math.max(widths[c], visible(row.get(c)));
          }
        }
      }
      StringBuilder out = new StringBuilder();
      line(out, header, widths);
      for (List<String> row : rows) {
        if (row.size() == 1 && row.get(0).startsWith("\u0000")) {
          out.append(row.get(0).substring(1)).append('\n');
        } else {
          line(out, row, widths);
        }
      }
      return out.toString();
    }

    private void line(StringBuilder out, List<String> cells, int[] widths) {
      for (int c = 0; c < cells.size(); c++) {
        String cell = cells.get(c);
        String pad = " ".repeat(Math.max(0, widths[c] - visible(cell)));
        out.append(c >= textColumns ? pad + cell : cell + pad);
        out.append(c == cells.size() - 1 ? "" : "  ");
      }
      out.append('\n');
    }

    /** Length without ANSI colour codes. */
    private static int visible(String cell) {
      return cell.replaceAll("\033\\[[0-9;]*m", "").length();
    }
  }
}
