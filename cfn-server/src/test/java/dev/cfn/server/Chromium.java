package dev.cfn.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Debian's {@code chromium} driven headless through {@code chromium-driver}, installed from
 * Debian's packages when missing (as root, or through {@code sudo -n}). A machine where neither is
 * possible fails the browser tests with the command to run; they are never skipped. Selenium
 * Manager is never asked to download a browser (this machine has no internet beyond the package
 * mirrors).
 */
final class Chromium {
  static final Path BROWSER = Path.of("/usr/bin/chromium");
  static final Path DRIVER = Path.of("/usr/bin/chromedriver");

  private Chromium() {}

  /** A headless browser that accepts the node's self-signed certificate. */
  static ChromeDriver start() {
    ensureInstalled();
    ChromeOptions options = new ChromeOptions();
    options.setBinary(BROWSER.toFile());
    options.addArguments(
        "--headless=new",
        "--no-sandbox", // the tests may run as root, where the sandbox cannot start
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900");
    options.setAcceptInsecureCerts(true);
    options.setCapability("goog:loggingPrefs", java.util.Map.of("browser", "ALL"));
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(DRIVER.toFile())
            .usingAnyFreePort()
            .withTimeout(Duration.ofSeconds(60))
            .build();
    ChromeDriver driver = new ChromeDriver(service, options);
    driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
    return driver;
  }

  /** A wait of up to 30 s on {@code browser}. */
  static WebDriverWait await(ChromeDriver browser) {
    return new WebDriverWait(browser, Duration.ofSeconds(30));
  }

  /**
   * Opens the dashboard of the node at {@code baseUrl} in a fresh tab's state (its session storage
   * cleared) and submits {@code token} in the sign-in form, without waiting for the outcome.
   */
  static void submitToken(ChromeDriver browser, String baseUrl, String token) {
    browser.get(baseUrl + "/ui/dashboard.css"); // same origin, no script running
    ((JavascriptExecutor) browser).executeScript("sessionStorage.clear()"); // a fresh tab's state
    browser.get(baseUrl + "/ui/");
    WebElement field =
        await(browser).until(ExpectedConditions.visibilityOfElementLocated(By.id("token")));
    field.clear();
    field.sendKeys(token);
    browser.findElement(By.id("signin")).click();
  }

  /** {@link #submitToken}, then waits until the dashboard shows (the token was accepted). */
  static void signIn(ChromeDriver browser, String baseUrl, String token) {
    submitToken(browser, baseUrl, token);
    await(browser).until(ExpectedConditions.visibilityOfElementLocated(By.id("app")));
  }

  /** Quits {@code browser}, then closes {@code node}, each when it was started (not null). */
  static void stop(ChromeDriver browser, TestNode node) {
    try {
      if (browser != null) {
        browser.quit();
      }
    } finally {
      if (node != null) {
        node.close();
      }
    }
  }

  static synchronized void ensureInstalled() {
    if (Files.isExecutable(BROWSER) && Files.isExecutable(DRIVER)) {
      return;
    }
    List<String> prefix = new ArrayList<>();
    if (!"0".equals(uid())) {
      prefix.addAll(List.of("sudo", "-n"));
    }
    String failure = apt(prefix, "install", "-y", "-q", "chromium", "chromium-driver");
    if (failure != null) {
      apt(prefix, "update", "-q");
      failure = apt(prefix, "install", "-y", "-q", "chromium", "chromium-driver");
    }
    if (failure != null || !Files.isExecutable(BROWSER) || !Files.isExecutable(DRIVER)) {
      throw new AssertionError(
          "the dashboard's browser tests need Debian's chromium and chromium-driver, and installing"
              + " them failed ("
              + failure
              + "); install them with: sudo apt-get install chromium chromium-driver");
    }
  }

  /** Runs apt-get; null when it succeeded, else what went wrong. */
  private static String apt(List<String> prefix, String... args) {
    List<String> cmd = new ArrayList<>(prefix);
    cmd.add("apt-get");
    cmd.addAll(List.of(args));
    if ("install".equals(args[0])) {
      cmd.add("--no-install-recommends"); // no udev, avahi or systemd upgrade beside the tests
    }
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
      Process p = pb.start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(15, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        return String.join(" ", cmd) + " did not finish in 15 minutes";
      }
      if (p.exitValue() != 0) {
        String text = new String(out, StandardCharsets.UTF_8).strip();
        int from = Math.max(0, text.length() - 400);
        return String.join(" ", cmd)
            + " exited with "
            + p.exitValue()
            + ": "
            + text.substring(from);
      }
      return null;
    } catch (IOException e) {
      return String.join(" ", cmd) + ": " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  private static String uid() {
    try {
      Process p = new ProcessBuilder("id", "-u").start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      p.waitFor();
      return out;
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }
}
