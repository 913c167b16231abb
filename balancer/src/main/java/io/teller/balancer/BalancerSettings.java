package io.teller.balancer;

import io.teller.balancer.tcp.ListenerSpec;
import io.teller.common.config.CommonSettings;
import io.teller.common.config.ConfigException;
import io.teller.common.config.Setting;
import io.teller.common.config.SettingType;
import java.util.List;

/** The balancer's own settings; the shared ones are in {@code CommonSettings}. */
public final class BalancerSettings {

  public static final Setting HTTPS_PORT =
      new Setting(
          "https.port", SettingType.PORT, "HTTPS listener: TLS termination, HTTP/2 and HTTP/1.1");
  public static final Setting HTTP_PORT =
      new Setting("http.port", SettingType.PORT, "plain HTTP listener");
  public static final Setting HTTP_REDIRECT =
      new Setting(
          "http.redirect",
          SettingType.BOOLEAN,
          "true: the HTTP listener redirects to HTTPS (308); false: it serves the routes");
  public static final Setting TLS_CERT =
      new Setting(
          "tls.cert",
          SettingType.OPTIONAL_STRING,
          "PEM certificate file(s), comma-separated for SNI (first is the default); empty: a "
              + "self-signed localhost certificate is generated into <data.dir>/tls");
  public static final Setting TLS_KEY =
      new Setting(
          "tls.key",
          SettingType.OPTIONAL_STRING,
          "PEM private key file(s), in the order of tls.cert");
  public static final Setting ADMIN_PORT =
      new Setting(
          "admin.port",
          SettingType.PORT,
          "admin listener: /healthz, /metrics (Prometheus), /counts, /tcp, /access-log (writes need"
              + " api.token)");
  public static final Setting ADMIN_HOST =
      new Setting(
          "admin.host",
          SettingType.OPTIONAL_HOST,
          "the address the admin listener binds; empty: listen.host");

  /** The API token: admin writes (PUT, POST, DELETE) need it, reads do not. */
  public static final Setting API_TOKEN = CommonSettings.API_TOKEN;

  public static final Setting INSTANCES =
      new Setting(
          "proxy.instances",
          SettingType.integer(0, 256, "must be 0 (one per core) to 256"),
          "proxy verticle instances (event loops serving traffic); 0: one per core");
  public static final Setting RECONCILE_MS =
      new Setting(
          "registry.reconcile.ms",
          SettingType.integer(100, 3_600_000, "must be 100 to 3600000"),
          "how often the full registry snapshot is re-read, healing any missed change");

  public static final Setting COUNTS_DELAY_MS =
      new Setting(
          "counts.delay.ms",
          SettingType.integer(1, 10_000, "must be 1 to 10000"),
          "at most this long after a change, in-flight counts are pushed to the other balancers");

  public static final Setting CONNECT_TIMEOUT_MS =
      new Setting(
          "proxy.connect.timeout.ms",
          SettingType.integer(1, 600_000, "must be 1 to 600000"),
          "how long to wait for a connection to an instance before trying another (502); a service's "
              + "timeouts.connectMs overrides it");
  public static final Setting RESPONSE_TIMEOUT_MS =
      new Setting(
          "proxy.response.timeout.ms",
          SettingType.integer(1, 3_600_000, "must be 1 to 3600000"),
          "how long an instance may take to send its response headers before the client gets 504; a "
              + "service's timeouts.responseMs overrides it");
  public static final Setting IDLE_TIMEOUT_MS =
      new Setting(
          "proxy.idle.timeout.ms",
          SettingType.integer(1, 3_600_000, "must be 1 to 3600000"),
          "a connection to an instance that carries no byte either way this long is closed (also while "
              + "a body or a WebSocket streams); a service's timeouts.idleMs overrides it");
  public static final Setting CLIENT_IDLE_TIMEOUT_MS =
      new Setting(
          "client.idle.timeout.ms",
          SettingType.integer(1, 3_600_000, "must be 1 to 3600000"),
          "a client connection that carries no byte either way this long is closed");
  public static final Setting RETRIES =
      new Setting(
          "proxy.retries",
          SettingType.integer(0, 10, "must be 0 to 10"),
          "other instances tried when one cannot be reached (or, for idempotent requests without a body, "
              + "fails before answering)");
  public static final Setting RETRY_BUDGET_PERCENT =
      new Setting(
          "proxy.retry.budget.percent",
          SettingType.integer(0, 100, "must be 0 to 100"),
          "retries allowed per 100 requests over the last 10 s, on top of proxy.retry.budget.min.per.second");
  public static final Setting RETRY_BUDGET_MIN_PER_SECOND =
      new Setting(
          "proxy.retry.budget.min.per.second",
          SettingType.integer(0, 100_000, "must be 0 to 100000"),
          "retries allowed each second whatever the traffic");
  public static final Setting EJECT_CONNECT_FAILURES =
      new Setting(
          "eject.connect.failures",
          SettingType.integer(1, 1_000, "must be 1 to 1000"),
          "connection failures in a row that eject an instance from this balancer's picks");
  public static final Setting EJECT_SERVER_ERRORS =
      new Setting(
          "eject.server.errors",
          SettingType.integer(0, 1_000, "must be 0 (never) to 1000"),
          "5xx answers or response timeouts in a row that eject an instance; 0: they never do");
  public static final Setting ACCESS_LOG =
      new Setting(
          "access.log",
          SettingType.BOOLEAN,
          "one JSON line per request on standard output (also switchable at run time: PUT /access-log on the admin port)");

  /** A list of {@link ListenerSpec}, from comma-separated text or a YAML list. */
  private static final SettingType TCP_LISTENER_LIST =
      new SettingType() {
        @Override
        public Object parse(Setting setting, Object raw) {
          try {
            return ListenerSpec.parseAll(raw);
          } catch (IllegalArgumentException e) {
            throw ConfigException.badValue(setting, raw, e.getMessage());
          }
        }

        @Override
        public String display(Object value) {
          return String.join(",", ((List<?>) value).stream().map(String::valueOf).toList());
        }
      };

  public static final Setting TCP_LISTENERS =
      new Setting(
          "tcp.listeners",
          TCP_LISTENER_LIST,
          "L4 listeners, comma-separated: PORT:SERVICE (the service's strategy), PORT:SERVICE:STRATEGY, "
              + "or PORT:sni (TLS pass-through, the service chosen by the ClientHello's server name)");
  public static final Setting TCP_IDLE_TIMEOUT_MS =
      new Setting(
          "tcp.idle.timeout.ms",
          SettingType.integer(0, 86_400_000, "must be 0 (never) to 86400000"),
          "an L4 connection with no byte either way for this long is closed; 0: never");
  public static final Setting TCP_HELLO_TIMEOUT_MS =
      new Setting(
          "tcp.hello.timeout.ms",
          SettingType.integer(1, 60_000, "must be 1 to 60000"),
          "how long an SNI listener waits for a connection's whole TLS ClientHello");

  public static final Setting HTTP_MAX_REQUEST_LINE_BYTES =
      new Setting(
          "http.max.request.line.bytes",
          SettingType.integer(256, 65_536, "must be 256 to 65536"),
          "the longest request line an HTTP/1.x client may send; longer: 414");
  public static final Setting HTTP_MAX_HEADER_BYTES =
      new Setting(
          "http.max.header.bytes",
          SettingType.integer(1_024, 1_048_576, "must be 1024 to 1048576"),
          "the largest header section (and trailer section) of a request; larger: 431");
  public static final Setting HTTP_MAX_HEADER_FIELDS =
      new Setting(
          "http.max.header.fields",
          SettingType.integer(8, 10_000, "must be 8 to 10000"),
          "the most header fields in one request; more: 431");
  public static final Setting HTTP_REQUEST_HEADER_TIMEOUT_MS =
      new Setting(
          "http.request.header.timeout.ms",
          SettingType.integer(100, 600_000, "must be 100 to 600000"),
          "how long a request head may take to arrive, from its first byte; later: 408 and the"
              + " connection closed");
  public static final Setting HTTP_MAX_CONNECTIONS =
      new Setting(
          "http.max.connections",
          SettingType.integer(1, 1_000_000, "must be 1 to 1000000"),
          "client connections open at once on each of the HTTPS and HTTP listeners; more: 503"
              + " and closed");

  public static final Setting HTTP_PATH_ALLOW_ENCODED_SEPARATORS =
      new Setting(
          "http.path.allow.encoded.separators",
          SettingType.BOOLEAN,
          "let paths carry %2F, %5C and %2E (percent-encoded /, \\ and .); false: such requests get"
              + " 400, since servers behind a proxy decode them differently");
  public static final Setting PROXY_TRUSTED_CIDRS =
      new Setting(
          "proxy.trusted.cidrs",
          io.teller.common.net.Cidr.LIST,
          "comma-separated CIDR ranges of proxies in front of the balancer whose X-Forwarded-For and"
              + " Forwarded are kept and appended to; from anyone else they are replaced");

  public static final Setting TRANSPORT =
      new Setting(
          "transport",
          SettingType.oneOf("auto", "io_uring", "epoll", "nio"),
          "the network transport of every listener and connection: io_uring or epoll (Linux"
              + " x86_64), nio (the JDK's, any platform), or auto (io_uring, else epoll, else nio);"
              + " one that cannot load falls back to nio, with a warning");

  public static final List<Setting> ALL =
      List.of(
          HTTPS_PORT,
          HTTP_PORT,
          HTTP_REDIRECT,
          TLS_CERT,
          TLS_KEY,
          ADMIN_PORT,
          ADMIN_HOST,
          API_TOKEN,
          INSTANCES,
          RECONCILE_MS,
          COUNTS_DELAY_MS,
          CONNECT_TIMEOUT_MS,
          RESPONSE_TIMEOUT_MS,
          IDLE_TIMEOUT_MS,
          CLIENT_IDLE_TIMEOUT_MS,
          RETRIES,
          RETRY_BUDGET_PERCENT,
          RETRY_BUDGET_MIN_PER_SECOND,
          EJECT_CONNECT_FAILURES,
          EJECT_SERVER_ERRORS,
          ACCESS_LOG,
          TCP_LISTENERS,
          TCP_IDLE_TIMEOUT_MS,
          TCP_HELLO_TIMEOUT_MS,
          HTTP_MAX_REQUEST_LINE_BYTES,
          HTTP_MAX_HEADER_BYTES,
          HTTP_MAX_HEADER_FIELDS,
          HTTP_REQUEST_HEADER_TIMEOUT_MS,
          HTTP_MAX_CONNECTIONS,
          HTTP_PATH_ALLOW_ENCODED_SEPARATORS,
          PROXY_TRUSTED_CIDRS,
          TRANSPORT);

  private BalancerSettings() {}
}
