package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.server.audit.AuditEvent;
import dev.cfn.server.auth.Role;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard's flow panels in a real browser (headless Debian chromium through chromium-driver,
 * as {@link DashboardBrowserTest}): a submitted graph's run with each task's status, a waiting run
 * cancelled from its button (and audited), and a swarm's members with who may message whom.
 */
class FlowPanelsBrowserTest {
  @TempDir static Path home;
  static TestNode node;
  static ChromeDriver browser;
  static String operator;

  @BeforeAll
  static void start() throws Exception {
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
    Chromium.signIn(browser, node.server.url(), token);
  }

  @Test
  void graphRunsShowTheirTasksAndARunningOneIsCancelledFromItsButton() throws Exception {
    assertThat(
            node.call(
                    "POST",
                    "/v1/graphs",
                    operator,
                    FlowRoutesTest.submit(FlowRoutesTest.CHAIN, "ui-done"))
                .statusCode())
        .isEqualTo(201);
    assertThat(
            node.call(
                    "POST",
                    "/v1/graphs",
                    operator,
                    FlowRoutesTest.submit(FlowRoutesTest.STUCK, "ui-wait"))
                .statusCode())
        .isEqualTo(201);
    signIn(operator);

    // the finished run, each of its tasks with its status, and no cancel button
    await()
        .until(
            ExpectedConditions.presenceOfElementLocated(
                By.cssSelector(
                    "#graphs-table tr[data-run='ui-done'][data-status='SUCCEEDED']"
                        + " li[data-task='second'][data-status='SUCCEEDED']")));
    assertThat(
            browser.findElements(By.cssSelector("#graphs-table tr[data-run='ui-done'] li")).size())
        .isEqualTo(2);
    assertThat(browser.findElements(By.cssSelector("#graphs-table tr[data-run='ui-done'] button")))
        .isEmpty();

    // the waiting run: its task runs, the other waits; Cancel ends both
    WebElement cancel =
        await()
            .until(
                ExpectedConditions.elementToBeClickable(
                    By.cssSelector(
                        "#graphs-table tr[data-run='ui-wait'][data-status='RUNNING']"
                            + " button.cancel-run")));
    assertThat(
            browser
                .findElement(
                    By.cssSelector(
                        "#graphs-table tr[data-run='ui-wait'] li[data-task='after-wait']"))
                .getText())
        .isEqualTo("after-wait: PENDING");
    cancel.click();
    await()
        .until(
            ExpectedConditions.presenceOfElementLocated(
                By.cssSelector(
                    "#graphs-table tr[data-run='ui-wait'][data-status='CANCELLED']"
                        + " li[data-task='wait'][data-status='CANCELLED']")));
    assertThat(node.audit.events())
        .anySatisfy(
            e -> {
              assertThat(e.action()).isEqualTo("POST /v1/graphs/{run}/cancel");
              assertThat(e.target()).isEqualTo("graph:ui-wait");
              assertThat(e.kind()).isEqualTo(AuditEvent.Kind.PRIVILEGED_ACTION);
            });
  }

  @Test
  void aSwarmShowsItsMembersAndWhoMayMessageWhom() throws Exception {
    assertThat(
            node.call(
                    "POST",
                    "/v1/swarms",
                    operator,
                    "{\"name\":\"crew\",\"topology\":\"star\",\"members\":["
                        + "{\"type\":\"echo\",\"key\":\"hub\"},{\"type\":\"echo\",\"key\":\"a\"},"
                        + "{\"type\":\"echo\",\"key\":\"b\"}]}")
                .statusCode())
        .isEqualTo(201);
    signIn(operator);
    WebElement spoke =
        await()
            .until(
                ExpectedConditions.presenceOfElementLocated(
                    By.cssSelector("article[data-swarm='crew'] tr[data-member='echo/a']")));
    assertThat(spoke.getText()).endsWith("echo/hub");
    assertThat(
            browser
                .findElement(
                    By.cssSelector("article[data-swarm='crew'] tr[data-member='echo/hub']"))
                .getText())
        .contains("lead")
        .contains("echo/a, echo/b");
    assertThat(browser.findElement(By.cssSelector("article[data-swarm='crew'] h3")).getText())
        .contains("star");

    // a member joining through the API appears on the next refresh
    assertThat(
            node.call(
                    "POST",
                    "/v1/swarms/crew/members",
                    operator,
                    "{\"type\":\"echo\",\"key\":\"c\"}")
                .statusCode())
        .isEqualTo(201);
    await()
        .until(
            ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("article[data-swarm='crew'] tr[data-member='echo/c']")));
  }
}
