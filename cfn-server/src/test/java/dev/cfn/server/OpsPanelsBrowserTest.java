package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.rollout.Gates;
import dev.cfn.ai.rollout.RolloutStatus;
import dev.cfn.ai.rollout.RolloutStore;
import dev.cfn.core.AgentType;
import dev.cfn.server.alerts.AlertConfig;
import dev.cfn.server.audit.AuditEvent;
import dev.cfn.server.auth.Role;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard's operations panels in a real browser (headless Debian chromium, the harness of
 * {@link DashboardBrowserTest}): an alert driven across its threshold shown firing and then
 * resolved, with its history; a canary rollout rolled back from its button (audited, the reason on
 * record); and the saved certification report with each check's figure, target and result.
 */
class OpsPanelsBrowserTest {
  @TempDir static Path home;
  static TestNode node;
  static ChromeDriver browser;
  static String operator;
  static final CountDownLatch release = new CountDownLatch(1);

  private static final String HOSTILE = "<img src=x onerror=\"window.pwned=1\">";

  @BeforeAll
  static void start() throws Exception {
    Path agents = home.resolve(".claude").resolve("agents");
    Files.createDirectories(agents);
    Files.writeString(
        agents.resolve("reviewer.md"),
        "---\nname: reviewer\ndescription: Reviews\ntools: []\n---\nYou review.\n");
    Files.writeString(
        home.resolve("reviewer-v2.md"),
        "---\nname: reviewer\ndescription: Reviews\ntools: []\nversion: 2\n---\nYou review well.\n");
    RolloutStore.at(home.resolve(".cfn/rollouts"))
        .start(
            DefinitionLoader.load(agents.resolve("reviewer.md")).definitions().getFirst(),
            DefinitionLoader.load(home.resolve("reviewer-v2.md")).definitions().getFirst(),
            List.of(5, 25, 100),
            Duration.ofMinutes(10),
            Gates.DEFAULTS,
            Instant.now(),
            "test");
    Path report = home.resolve(OpsRoutes.CERTIFICATION);
    Files.createDirectories(report.getParent());
    Files.writeString(
        report,
        """
        {"level": "PARTIAL", "score": 83, "profile": "quick",
         "started": "2026-12-06T20:00:00Z", "finished": "2026-12-06T20:04:00Z",
         "passed": 1, "total": 2,
         "checks": [
          {"number": 1, "name": "latency", "title": "Delivery latency P95", "critical": true,
           "target": 10.0, "targetText": "P95 <= 10 ms", "measured": 0.42, "unit": "ms",
           "passed": true, "available": true, "status": "PASS"},
          {"number": 2, "name": "throughput", "title": "%s", "critical": false,
           "target": 100000.0, "targetText": ">= 100000 msg/s", "measured": 51234.5,
           "unit": "msg/s", "passed": false, "available": true, "status": "FAIL"}]}
        """
            .formatted(HOSTILE.replace("\"", "\\\"")));
    AlertConfig rules =
        AlertConfig.parse(
            """
            evaluate-every: 100ms
            rules:
              - name: mailbox-backlog
                severity: warning
                metric: cfn_mailbox_depth
                op: ">"
                threshold: 5
                for: 0s
                summary: messages pile up
            """,
            "test rules",
            Map.of());
    node =
        TestNode.start(
            home,
            b ->
                b.alerts(rules)
                    .agentType(
                        AgentType.builder(
                                "held",
                                id ->
                                    (m, ctx) -> {
                                      if (!release.await(60, TimeUnit.SECONDS)) {
                                        throw new IllegalStateException("never released");
                                      }
                                    })
                            .blocking()
                            .build()));
    operator = node.token(Role.OPERATOR);
    browser = Chromium.start();
  }

  @AfterAll
  static void stop() {
    release.countDown();
    Chromium.stop(browser, node);
  }

  private static WebDriverWait await() {
    return Chromium.await(browser);
  }

  private static void signIn(String token) {
    Chromium.signIn(browser, node.server.url(), token);
  }

  /** Keeps a picture of panel {@code id} as target/ops-ID.png, for a human to look at. */
  private static void screenshot(String id) throws java.io.IOException {
    ((JavascriptExecutor) browser)
        .executeScript("document.getElementById(arguments[0]).scrollIntoView()", id);
    Files.write(Path.of("target", "ops-" + id + ".png"), browser.getScreenshotAs(OutputType.BYTES));
  }

  @Test
  void anAlertDrivenOverItsThresholdIsShownFiringThenResolvedWithItsHistory() throws Exception {
    signIn(operator);
    By rule = By.cssSelector("#alerts-table tr[data-rule='mailbox-backlog']");
    await().until(ExpectedConditions.presenceOfElementLocated(rule));
    assertThat(browser.findElement(rule).getAttribute("data-state")).isEqualTo("inactive");
    for (int i = 0; i < 10; i++) {
      assertThat(
              node.call("POST", "/v1/messages/send", operator, "{\"to\":\"held/h\",\"payload\":1}")
                  .statusCode())
          .isEqualTo(202);
    }
    await()
        .until(
            ExpectedConditions.presenceOfElementLocated(
                By.cssSelector(
                    "#alerts-table tr[data-rule='mailbox-backlog'][data-state='firing']")));
    assertThat(browser.findElement(By.id("alerts-firing")).getText()).contains("1 firing");
    assertThat(browser.findElement(rule).getText())
        .contains("warning")
        .contains("messages pile up");
    await()
        .until(
            ExpectedConditions.presenceOfElementLocated(
                By.cssSelector(
                    "#alert-history-table tr[data-rule='mailbox-backlog'][data-state='firing']")));
    screenshot("alerts");
    release.countDown();
    await()
        .until(
            ExpectedConditions.presenceOfElementLocated(
                By.cssSelector(
                    "#alert-history-table tr[data-rule='mailbox-backlog'][data-state='resolved']")));
    await()
        .until(
            ExpectedConditions.presenceOfElementLocated(
                By.cssSelector(
                    "#alerts-table tr[data-rule='mailbox-backlog'][data-state='inactive']")));
    assertThat(browser.findElement(By.id("alerts-firing")).getText()).contains("0 firing");
  }

  @Test
  void aRolloutIsRolledBackFromItsButtonWithTheReasonOnRecordAndAudited() throws Exception {
    signIn(operator);
    By row = By.cssSelector("#rollouts-table tr[data-agent='reviewer']");
    await().until(ExpectedConditions.presenceOfElementLocated(row));
    assertThat(browser.findElement(row).getAttribute("data-phase")).isEqualTo("running");
    assertThat(browser.findElement(row).getText())
        .contains("5 %")
        .contains("step 1 of 3")
        .contains("0 tasks, errors 0.0 %");
    // no reason, no rollback: the page asks for one and nothing is sent
    node.audit.clear();
    browser.findElement(row).findElement(By.cssSelector("button.rollback")).click();
    await()
        .until(
            ExpectedConditions.textToBePresentInElementLocated(By.id("rollouts-error"), "say why"));
    assertThat(node.audit.of(AuditEvent.Kind.PRIVILEGED_ACTION)).isEmpty();
    browser.findElement(row).findElement(By.cssSelector("input.reason")).sendKeys("reads worse");
    browser.findElement(row).findElement(By.cssSelector("button.rollback")).click();
    await()
        .until(
            ExpectedConditions.presenceOfElementLocated(
                By.cssSelector(
                    "#rollouts-table tr[data-agent='reviewer'][data-phase='rolled-back']")));
    assertThat(browser.findElement(row).getText()).contains("reads worse");
    assertThat(
            browser.findElements(
                By.cssSelector("#rollouts-table tr[data-agent='reviewer'] button")))
        .as("no buttons once it ended")
        .isEmpty();
    RolloutStatus s =
        RolloutStore.at(home.resolve(".cfn/rollouts")).status("reviewer").orElseThrow();
    assertThat(s.phase()).isEqualTo(RolloutStatus.Phase.ROLLED_BACK);
    assertThat(s.reason()).isEqualTo("reads worse");
    assertThat(s.events().getLast().by()).startsWith("token tok_");
    screenshot("rollouts");
    assertThat(node.audit.of(AuditEvent.Kind.PRIVILEGED_ACTION))
        .anySatisfy(
            e -> {
              assertThat(e.target()).isEqualTo("agent:reviewer");
              assertThat(e.action()).isEqualTo("POST /v1/rollouts/{agent}/rollback");
              assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.SUCCESS);
            });
  }

  @Test
  void theSavedCertificationReportIsShownCheckByCheckAsText() throws Exception {
    signIn(operator);
    await().until(ExpectedConditions.textToBe(By.id("certify-level"), "PARTIAL"));
    assertThat(browser.findElement(By.id("certify-summary")).getText())
        .contains("1 of 2 checks passed");
    WebElement latency =
        browser.findElement(By.cssSelector("#certify-table tr[data-check='latency']"));
    assertThat(latency.getAttribute("data-status")).isEqualTo("PASS");
    assertThat(latency.getText()).contains("0.42 ms").contains("P95 <= 10 ms").contains("PASS");
    WebElement throughput =
        browser.findElement(By.cssSelector("#certify-table tr[data-check='throughput']"));
    assertThat(throughput.getText()).contains(HOSTILE).contains("FAIL").contains("51234.5");
    assertThat(((JavascriptExecutor) browser).executeScript("return window.pwned === undefined"))
        .isEqualTo(true);
    screenshot("certification");
  }

  @Test
  void withoutAReportTheRouteSaysWhichCommandMakesOne() throws Exception {
    Path report = home.resolve(OpsRoutes.CERTIFICATION);
    Path aside = report.resolveSibling("kept-aside.json");
    Files.move(report, aside);
    try {
      var r = node.get("/v1/certify/latest", node.token(Role.VIEWER));
      assertThat(r.statusCode()).isEqualTo(404);
      assertThat(r.headers().firstValue("Content-Type").orElseThrow())
          .startsWith("application/problem+json");
      assertThat(r.body()).contains("cfn certify");
    } finally {
      Files.move(aside, report);
    }
  }

  @Test
  void thePanelsRunWithoutScriptErrorsUnderThePolicy() {
    signIn(operator);
    await()
        .until(
            ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#rollouts-table tr[data-agent='reviewer']")));
    List<org.openqa.selenium.logging.LogEntry> severe =
        browser.manage().logs().get(org.openqa.selenium.logging.LogType.BROWSER).getAll().stream()
            .filter(e -> e.getLevel().intValue() >= java.util.logging.Level.SEVERE.intValue())
            .filter(e -> !e.getMessage().contains("/favicon.ico"))
            .filter(e -> !e.getMessage().contains("/v1/certify/latest")) // the 404 test's answer
            .filter(e -> !e.getMessage().contains("/v1/rollouts/")) // refusals tests may cause
            .toList();
    assertThat(severe).as("console errors (a blocked script or style, a bug)").isEmpty();
  }
}
