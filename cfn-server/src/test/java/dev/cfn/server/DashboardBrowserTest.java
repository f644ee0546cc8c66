package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.server.audit.AuditEvent;
import dev.cfn.server.auth.Role;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real browser (headless Debian chromium through chromium-driver), over TLS with
 * the node's self-signed certificate: signing in with a refused and then a good token, agents and
 * their definitions, a dead letter replayed from its button (and audited), live events, the gauges
 * and charts fed by /metrics, markup in data shown as text, the panels read again on a gap in the
 * live events (and only then), and signing out.
 */
class DashboardBrowserTest {
  @TempDir static Path home;
  static TestNode node;
  static ChromeDriver browser;
  static String operator;

  private static final String HOSTILE = "<img src=x onerror=\"window.pwned=1\">";

  @BeforeAll
  static void start() throws Exception {
    Path agents = home.resolve(".claude").resolve("agents");
    Files.createDirectories(agents);
    Files.writeString(
        agents.resolve("scribe.md"),
        "---\nname: scribe\ndescription: '" + HOSTILE + "'\n---\nYou write things down.\n");
    EscalatedLoop.run(home, "esc-ui");
    node = TestNode.start(home);
    operator = node.token(Role.OPERATOR);
    browser = Chromium.start();
  }

  @AfterAll
  static void stop() {
    Chromium.stop(browser, node);
  }

  private static WebDriverWait await() {
    return Chromium.await(browser);
  }

  private static void signIn(String token) {
    Chromium.submitToken(browser, node.server.url(), token);
  }

  @Test
  void theStaticPageIsPublicHoldsNoDataAndForbidsFramingAndForeignScripts() throws Exception {
    HttpResponse<String> page = node.call("GET", "/ui/", null, null);
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body()).contains("cfn dashboard").doesNotContain("scribe");
    assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow())
        .contains("script-src 'self'")
        .contains("frame-ancestors 'none'");
    assertThat(page.headers().firstValue("X-Frame-Options")).contains("DENY");
    HttpResponse<String> chart =
        node.call("GET", "/webjars/uplot/1.6.30/dist/uPlot.iife.min.js", null, null);
    assertThat(chart.statusCode()).isEqualTo(200);
    assertThat(node.call("GET", "/webjars/uplot/../../../../", null, null).statusCode())
        .isNotEqualTo(200);
    assertThat(node.call("GET", "/v1/agents", null, null).statusCode())
        .as("the data stays behind the token")
        .isEqualTo(401);
    // odd paths under the dashboard are answered, never dropped, and never with a 5xx
    for (String odd :
        new String[] {
          "/ui/%FF%FE", "/ui/" + "%E4%BD%A0".repeat(300), "/ui/..%2F..%2Fetc%2Fpasswd", "/ui/%00"
        }) {
      assertThat(node.call("GET", odd, null, null).statusCode()).as(odd).isBetween(200, 499);
    }
  }

  @Test
  void aRefusedTokenIsSaidSoAndAGoodOneShowsTheNodeLive() throws Exception {
    signIn("not-a-token");
    await()
        .until(
            ExpectedConditions.textToBePresentInElementLocated(
                By.id("login-error"), "refused this token"));
    assertThat(browser.findElement(By.id("app")).isDisplayed()).isFalse();

    signIn(operator);
    await().until(ExpectedConditions.visibilityOfElementLocated(By.id("app")));
    await().until(ExpectedConditions.textToBe(By.id("node-status"), "ready"));

    // an agent spawned through the API appears in the table, and its start in the live events
    assertThat(
            node.call("POST", "/v1/agents", operator, "{\"type\":\"echo\",\"key\":\"seen\"}")
                .statusCode())
        .isEqualTo(201);
    await()
        .until(
            ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#agents-table tr[data-agent='echo/seen']")));
    await()
        .until(
            d ->
                d.findElements(By.cssSelector("#events-list li")).stream()
                    .anyMatch(li -> li.getText().contains("echo/seen")));

    // the definition's hostile description is shown as text and never runs
    await()
        .until(
            ExpectedConditions.textToBePresentInElementLocated(
                By.id("definitions-table"), HOSTILE));
    assertThat(((JavascriptExecutor) browser).executeScript("return window.pwned === undefined"))
        .isEqualTo(true);
    assertThat(browser.findElements(By.cssSelector("#definitions-table img"))).isEmpty();

    // the charts and gauges follow /metrics: messages sent through the API show up as a rate
    for (int i = 0; i < 20; i++) {
      node.call("POST", "/v1/messages/send", operator, "{\"to\":\"echo/seen\",\"payload\":\"hi\"}");
    }
    await()
        .until(ExpectedConditions.textToBePresentInElementLocated(By.id("gauges"), "messages/s"));
    assertThat(browser.findElement(By.id("gauges")).getText())
        .contains("mailbox depth")
        .contains("HTTP connections");
    assertThat(browser.findElement(By.id("metrics-note")).getText()).isEmpty();
    Files.write(
        Path.of("target", "dashboard.png"),
        browser.getScreenshotAs(org.openqa.selenium.OutputType.BYTES)); // for a human to look at
  }

  @Test
  void aDeadLetterIsReplayedFromItsButtonAndTheReplayIsAudited() throws Exception {
    HttpResponse<String> sent =
        node.call(
            "POST",
            "/v1/messages/send",
            operator,
            "{\"to\":\"failing/dash\",\"payload\":{\"n\":1},\"reliable\":true}");
    assertThat(sent.statusCode()).isEqualTo(202);
    String id = Gate.JSON.readTree(sent.body()).path("id").asText();
    signIn(operator);
    By row = By.cssSelector("#dead-table tr[data-id='" + id + "']");
    await().until(ExpectedConditions.presenceOfElementLocated(row));
    node.audit.clear();
    browser.findElement(row).findElement(By.cssSelector("button.replay")).click();
    await()
        .until(
            d ->
                node.audit.of(AuditEvent.Kind.PRIVILEGED_ACTION).stream()
                    .anyMatch(
                        e ->
                            e.target().equals("dead-letter:" + id)
                                && e.action().contains("/replay")
                                && e.outcome() == AuditEvent.Outcome.SUCCESS));
    assertThat(browser.findElement(By.id("dead-error")).getText()).isEmpty();
    // the failing agent fails it again: it is back in the table
    await().until(ExpectedConditions.presenceOfElementLocated(row));
  }

  @Test
  void anEscalatedLoopIsDecidedFromItsButtonsWithTheNoteOnRecord() throws Exception {
    signIn(operator);
    By row = By.cssSelector("#loops-table tr[data-run='esc-ui']");
    await().until(ExpectedConditions.presenceOfElementLocated(row));
    assertThat(browser.findElement(row).getText()).contains("WAITING").contains("licence question");
    browser.findElement(row).findElement(By.cssSelector("input.note")).sendKeys("MIT is fine");
    browser.findElement(row).findElement(By.cssSelector("button.proceed")).click();
    await()
        .until(
            ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#loops-table tr[data-run='esc-ui'][data-status='ACCEPTED']")));
    assertThat(browser.findElements(By.cssSelector("#loops-table tr[data-run='esc-ui'] button")))
        .as("no decision buttons once decided")
        .isEmpty();
    String record = node.call("GET", "/v1/loops/esc-ui", operator, null).body();
    assertThat(record).contains("MIT is fine").contains("ACCEPTED");
    assertThat(node.audit.of(AuditEvent.Kind.PRIVILEGED_ACTION))
        .anyMatch(e -> e.target().equals("loop:esc-ui"));
  }

  @Test
  void aGapInTheLiveEventsReadsThePanelsAgainAndAResumeWithoutOneDoesNot() throws Exception {
    signIn(operator);
    await().until(ExpectedConditions.visibilityOfElementLocated(By.id("app")));
    await().until(ExpectedConditions.textToBe(By.id("events-state"), "(live)"));
    await().until(d -> js("return state.lastEventId") != null);
    // from here on only the event stream may read the panels again: the 2 s refresh stops, and
    // one refresh run to its end settles any that was under way
    js("clearInterval(state.timer); state.timer = null;");
    ((JavascriptExecutor) browser)
        .executeAsyncScript("const done = arguments[0]; refresh().then(() => done(null));");
    By quiet = By.cssSelector("#agents-table tr[data-agent='echo/quiet']");
    By missed = By.cssSelector("#agents-table tr[data-agent='echo/missed']");

    // the connection drops and comes back inside the node's window: the events missed meanwhile
    // are delivered, and nothing is read again
    disconnect();
    spawn("quiet");
    js("followEvents()");
    awaitEventFor("echo/quiet");
    spawn("marker");
    awaitEventFor("echo/marker");
    assertThat(browser.findElements(quiet)).as("no gap, no re-read").isEmpty();
    assertThat(browser.findElements(By.cssSelector("#events-list li[data-event='gap']"))).isEmpty();

    // it drops again, an agent starts, and more events pass than the node's window holds: the
    // dashboard resumes from an id the node no longer has, gets the gap, and reads its panels again
    disconnect();
    long seen = Long.parseLong((String) js("return state.lastEventId"));
    spawn("missed");
    EventFeed feed = node.server.node().events;
    for (int i = 0; i < EventFeed.CAPACITY + 10; i++) {
      feed.append("test.filler", "{}");
    }
    assertThat(feed.oldest()).as("the window moved past what the page saw").isGreaterThan(seen + 1);
    assertThat(browser.findElements(missed)).isEmpty();
    // the list keeps the last 200 events, so the gap's line is caught as it is added
    js(
        "window.gapLine = null; new MutationObserver((changes) => changes.forEach((c) =>"
            + " c.addedNodes.forEach((n) => { if (n.dataset && n.dataset.event === 'gap')"
            + " window.gapLine = n.textContent; }))).observe($('events-list'), {childList: true});");
    js("followEvents()");
    await().until(d -> js("return window.gapLine") != null);
    assertThat((String) js("return window.gapLine"))
        .startsWith("gap: events were missed")
        .contains("\"lastEventId\":" + seen);
    await().until(ExpectedConditions.presenceOfElementLocated(missed));
    assertThat(browser.findElements(quiet)).as("read again, whole").hasSize(1);
    await().until(ExpectedConditions.textToBe(By.id("events-state"), "(live)"));
  }

  private static Object js(String script) {
    return ((JavascriptExecutor) browser).executeScript(script);
  }

  /** Ends the page's event stream (its own abort: the read ends as a dropped connection's). */
  private static void disconnect() {
    js("state.events.abort()");
  }

  private static void spawn(String key) throws Exception {
    assertThat(
            node.call("POST", "/v1/agents", operator, "{\"type\":\"echo\",\"key\":\"" + key + "\"}")
                .statusCode())
        .isEqualTo(201);
  }

  private static void awaitEventFor(String agent) {
    await()
        .until(
            d ->
                d.findElements(By.cssSelector("#events-list li")).stream()
                    .anyMatch(li -> li.getText().contains(agent)));
  }

  @Test
  void signingOutForgetsTheTokenInThisTab() {
    signIn(operator);
    await().until(ExpectedConditions.visibilityOfElementLocated(By.id("app")));
    browser.findElement(By.id("signout")).click();
    await().until(ExpectedConditions.visibilityOfElementLocated(By.id("login")));
    Object saved =
        ((JavascriptExecutor) browser).executeScript("return sessionStorage.getItem('cfn.token')");
    assertThat(saved).isNull();
    browser.navigate().refresh();
    await().until(ExpectedConditions.visibilityOfElementLocated(By.id("token")));
    assertThat(browser.findElement(By.id("app")).isDisplayed()).isFalse();
  }

  @Test
  void thePageRunsWithoutScriptErrorsUnderItsPolicy() {
    signIn(operator);
    await().until(ExpectedConditions.visibilityOfElementLocated(By.id("app")));
    List<org.openqa.selenium.logging.LogEntry> severe =
        browser.manage().logs().get(org.openqa.selenium.logging.LogType.BROWSER).getAll().stream()
            .filter(e -> e.getLevel().intValue() >= java.util.logging.Level.SEVERE.intValue())
            .filter(e -> !e.getMessage().contains("/metrics")) // the 404 of an absent /metrics
            .filter(e -> !e.getMessage().contains("/favicon.ico")) // dashboard.css opened alone
            .filter(e -> !e.getMessage().contains("/v1/agents")) // the refused token, on purpose
            .filter(e -> !e.getMessage().contains("/v1/certify/latest")) // no report yet: a 404
            .toList();
    assertThat(severe).as("console errors (a blocked script or style, a bug)").isEmpty();
  }
}
