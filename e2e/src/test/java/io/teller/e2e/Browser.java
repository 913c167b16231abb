package io.teller.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Headless Chromium driven by Selenium through the machine's own chromedriver: Debian's {@code
 * chromium} and {@code chromium-driver} packages, at {@code /usr/bin/chromium} and {@code
 * /usr/bin/chromedriver} (or {@code -Dteller.chromium=...}, {@code -Dteller.chromedriver=...}).
 * Both are named explicitly, so Selenium Manager never downloads anything; without them the test is
 * skipped, saying which package to install.
 */
final class Browser implements AutoCloseable {

  private final ChromeDriver driver;
  private final Path profile;

  private Browser(ChromeDriver driver, Path profile) {
    this.driver = driver;
    this.profile = profile;
  }

  private static Path chromium() {
    return Path.of(System.getProperty("teller.chromium", "/usr/bin/chromium"));
  }

  private static Path chromedriver() {
    return Path.of(System.getProperty("teller.chromedriver", "/usr/bin/chromedriver"));
  }

  /** Why no browser can run here (the packages to install), or null when one can. */
  static String missing() {
    if (!Files.isExecutable(chromium())) {
      return "no Chromium at "
          + chromium()
          + ": apt-get install chromium chromium-driver (or -Dteller.chromium=PATH)";
    }
    if (!Files.isExecutable(chromedriver())) {
      return "no chromedriver at "
          + chromedriver()
          + ": apt-get install chromium-driver (or -Dteller.chromedriver=PATH)";
    }
    return null;
  }

  /** Starts a browser; call only when {@link #missing()} is null. */
  static Browser start(int width, int height) throws IOException {
    Path chromium = chromium();
    Path driverBinary = chromedriver();
    Path profile = Files.createTempDirectory("teller-chromium-");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(chromium.toFile());
    options.addArguments(
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--user-data-dir=" + profile,
        "--window-size=" + width + "," + height);
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(driverBinary.toFile())
            .usingAnyFreePort()
            .build();
    ChromeDriver driver = new ChromeDriver(service, options);
    driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(10));
    driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
    return new Browser(driver, profile);
  }

  ChromeDriver driver() {
    return driver;
  }

  /** Runs a script in the page and returns its result. */
  @SuppressWarnings("unchecked")
  <T> T script(String script, Object... args) {
    return (T) driver.executeScript(script, args);
  }

  @Override
  public void close() throws IOException {
    try {
      driver.quit();
    } finally {
      try (Stream<Path> files = Files.walk(profile)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
