package dev.cfn.ai.hook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.core.AgentId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hook commands through the process machinery: stdin, exit codes, limits, environment, kill. */
class CommandHookTest {
  private static final AgentId AGENT = AgentId.of("coder", "1");
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;

  private static HookEvent preTool() {
    return new HookEvent.PreTool(
        AGENT, "file_write", EventJson.MAPPER.createObjectNode().put("path", "a.py"));
  }

  @Test
  void theEventArrivesAsJsonOnStdinAndStdoutIsTheFeedback() throws Exception {
    CommandHook cat = CommandHook.builder("cat").build();

    HookOutcome outcome = cat.run(preTool());

    assertThat(outcome.blocked()).isFalse();
    JsonNode event = EventJson.MAPPER.readTree(outcome.message());
    assertThat(event.get("event").asText()).isEqualTo("pre-tool");
    assertThat(event.get("agent").asText()).isEqualTo("coder/1");
    assertThat(event.get("tool").asText()).isEqualTo("file_write");
    assertThat(event.at("/arguments/path").asText()).isEqualTo("a.py");
  }

  @Test
  void aNonZeroExitBlocksWithWhatTheCommandSaidOnStderr() {
    CommandHook guard =
        CommandHook.shell("echo 'writes to a.py are frozen' >&2; exit 3").name("guard").build();

    HookOutcome outcome = guard.run(preTool());

    assertThat(outcome.blocked()).isTrue();
    assertThat(outcome.message())
        .isEqualTo("the hook guard exited with code 3: writes to a.py are frozen");
  }

  @Test
  void anArgumentVectorRunsWithoutAShell() {
    CommandHook echo = CommandHook.builder("echo", "$HOME; touch pwned").build();

    HookOutcome outcome = echo.run(preTool());

    assertThat(outcome.message()).isEqualTo("$HOME; touch pwned");
    assertThat(Path.of("pwned")).doesNotExist();
  }

  @Test
  void aMissingProgramBlocksAndSaysSo() {
    HookOutcome outcome = CommandHook.builder("cfn-no-such-program-here").build().run(preTool());

    assertThat(outcome.blocked()).isTrue();
    assertThat(outcome.message()).contains("could not start 'cfn-no-such-program-here'");
  }

  @Test
  void aHookThatOutlivesItsTimeoutIsBlockedAndItsProcessTreeKilled() throws Exception {
    Path pids = dir.resolve("pids");
    CommandHook slow =
        CommandHook.shell("sleep 600 & echo $! > " + pids + "; echo $$ >> " + pids + "; wait")
            .name("slow")
            .timeout(Duration.ofSeconds(1))
            .build();

    HookOutcome outcome = slow.run(preTool());

    assertThat(outcome.blocked()).isTrue();
    assertThat(outcome.message())
        .startsWith("the hook slow did not finish within PT1S and its process tree was killed");
    for (String pid : Files.readAllLines(pids)) {
      long p = Long.parseLong(pid.strip());
      eventually(
          () -> ProcessHandle.of(p).map(h -> !running(h)).orElse(true),
          "process " + p + " of the hook is gone");
    }
  }

  @Test
  void outputBeyondTheLimitIsCutAndTheCutSaid() {
    CommandHook chatty =
        CommandHook.shell("head -c 100000 /dev/zero | tr '\\0' x").maxOutputBytes(100).build();

    HookOutcome outcome = chatty.run(preTool());

    assertThat(outcome.blocked()).isFalse();
    assertThat(outcome.message()).isEqualTo("x".repeat(100) + "\n[output cut at the hook's limit]");
  }

  @Test
  void aSecretInTheJvmEnvironmentIsNotVisibleToTheHook() {
    Map<String, String> jvmEnv =
        Map.of(
            "PATH", System.getenv("PATH"),
            "ANTHROPIC_API_KEY", "sk-ant-secret",
            "PROJECT_TOKEN", "allowed-value");
    CommandHook env =
        CommandHook.builder("env")
            .parentEnvironment(jvmEnv)
            .inheritEnv("PROJECT_TOKEN")
            .env("MODE", "check")
            .build();

    String seen = env.run(preTool()).message();

    assertThat(seen).doesNotContain("sk-ant-secret").doesNotContain("ANTHROPIC_API_KEY");
    assertThat(seen.lines())
        .contains(
            "PROJECT_TOKEN=allowed-value",
            "MODE=check",
            "CFN_HOOK_EVENT=pre-tool",
            "CFN_AGENT=coder/1",
            "CFN_TOOL=file_write");
  }

  @Test
  void theRealJvmEnvironmentStaysOutButForTheAllowList() {
    String seen = CommandHook.builder("env").inheritNoEnv().build().run(preTool()).message();

    for (String name : System.getenv().keySet()) {
      assertThat(seen.lines()).noneMatch(l -> l.startsWith(name + "="));
    }
  }

  @Test
  void badSettingsAreRefusedWithTheFix() {
    assertThatThrownBy(() -> CommandHook.builder().build()).hasMessageContaining("needs a program");
    assertThatThrownBy(() -> CommandHook.builder("x").timeout(Duration.ZERO))
        .hasMessageContaining("timeout must be positive");
    assertThatThrownBy(() -> CommandHook.builder("x").maxOutputBytes(0))
        .hasMessageContaining("use 1 to");
    assertThatThrownBy(() -> CommandHook.builder("x").env("A=B", "1").build())
        .hasMessageContaining("'A=B' is invalid");
    assertThatThrownBy(() -> Hooks.builder().preTool("a||b", e -> HookOutcome.proceed()))
        .hasMessageContaining("empty alternative");
  }

  static boolean running(ProcessHandle h) {
    if (!h.isAlive()) {
      return false;
    }
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(h.pid()), "stat"));
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state != 'Z' && state != 'X';
    } catch (Exception e) {
      return h.isAlive();
    }
  }

  static void eventually(java.util.function.BooleanSupplier condition, String what)
      throws InterruptedException {
    long end = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - end > 0) {
        fail("condition never held: " + what);
      }
      Thread.sleep(5);
    }
  }
}
