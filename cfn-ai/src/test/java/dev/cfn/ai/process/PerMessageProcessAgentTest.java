package dev.cfn.ai.process;

import static dev.cfn.ai.process.ProcessTestSupport.WAIT;
import static dev.cfn.ai.process.ProcessTestSupport.ask;
import static dev.cfn.ai.process.ProcessTestSupport.descendantsMatching;
import static dev.cfn.ai.process.ProcessTestSupport.eventually;
import static dev.cfn.ai.process.ProcessTestSupport.gone;
import static dev.cfn.ai.process.ProcessTestSupport.pids;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.process.ProcessResult.Outcome;
import dev.cfn.ai.process.ProcessSpec.Stdin;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.Envelope;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PerMessageProcessAgentTest {
  private static final AgentId ID = AgentId.of("proc", "1");

  private static ProcessResult runOnce(ProcessSpec spec, Object payload) {
    try (AgentRuntime rt = ProcessTestSupport.runtime(ProcessAgent.type("proc", spec))) {
      return ask(rt, ID, payload);
    }
  }

  @Test
  void each_message_runs_the_command_with_the_text_on_stdin() {
    ProcessSpec spec = ProcessSpec.builder("cat").build();
    try (AgentRuntime rt = ProcessTestSupport.runtime(ProcessAgent.type("proc", spec))) {
      ProcessResult first = ask(rt, ID, "hello\nworld");
      ProcessResult second = ask(rt, ID, "again");

      assertThat(first.outcome()).isEqualTo(Outcome.COMPLETED);
      assertThat(first.succeeded()).isTrue();
      assertThat(first.exitCode()).isZero();
      assertThat(first.stdout()).isEqualTo("hello\nworld");
      assertThat(first.stderrTail()).isEmpty();
      assertThat(first.stdoutTruncated()).isFalse();
      assertThat(first.detail()).isEmpty();
      assertThat(first.duration()).isPositive();
      assertThat(second.stdout()).isEqualTo("again");
      assertThat(second.pid()).as("a fresh process per message").isNotEqualTo(first.pid());
      assertThat(gone(first.pid())).isTrue();
    }
  }

  @Test
  void message_text_fills_the_argument_template_and_request_args_are_appended() {
    ProcessSpec spec =
        ProcessSpec.builder("printf", "[%s]", ProcessSpec.INPUT_PLACEHOLDER)
            .stdin(Stdin.none())
            .build();

    ProcessResult r = runOnce(spec, ProcessRequest.of("a b; $(rm -rf /)").withArgs("c"));

    assertThat(r.stdout())
        .as("no shell: the text is one argument")
        .isEqualTo("[a b; $(rm -rf /)][c]");
  }

  @Test
  void fixed_stdin_is_read_whatever_the_message() {
    ProcessSpec spec = ProcessSpec.builder("cat").stdin(Stdin.text("fixed input")).build();

    assertThat(runOnce(spec, "ignored").stdout()).isEqualTo("fixed input");
  }

  @Test
  void non_zero_exit_is_a_result_with_the_stderr_tail() {
    ProcessSpec spec =
        ProcessSpec.builder("sh", "-c", "echo partial; echo 'bad input' >&2; exit 3").build();

    ProcessResult r = runOnce(spec, "");

    assertThat(r.outcome()).isEqualTo(Outcome.COMPLETED);
    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.succeeded()).isFalse();
    assertThat(r.stdout()).isEqualTo("partial\n");
    assertThat(r.stderrTail()).isEqualTo("bad input\n");
    assertThat(r.detail()).contains("exited with code 3");
  }

  @Test
  void stdout_beyond_the_limit_is_cut_and_flagged_while_the_process_runs_to_its_end() {
    ProcessSpec spec =
        ProcessSpec.builder("sh", "-c", "head -c 300000 /dev/zero | tr '\\000' x; echo; exit 0")
            .maxStdoutBytes(1000)
            .build();

    ProcessResult r = runOnce(spec, "");

    assertThat(r.outcome()).isEqualTo(Outcome.COMPLETED);
    assertThat(r.exitCode()).as("the writer was never blocked by a full pipe").isZero();
    assertThat(r.stdout()).hasSize(1000).matches("x+");
    assertThat(r.stdoutTruncated()).isTrue();
  }

  @Test
  void a_chatty_stderr_is_drained_concurrently_and_only_its_tail_kept() {
    ProcessSpec spec =
        ProcessSpec.builder(
                "sh",
                "-c",
                "head -c 2000000 /dev/zero | tr '\\000' e >&2; printf tail >&2; echo done")
            .maxStderrBytes(4096)
            .build();

    ProcessResult r = runOnce(spec, "");

    assertThat(r.outcome()).isEqualTo(Outcome.COMPLETED);
    assertThat(r.exitCode()).isZero();
    assertThat(r.stdout()).isEqualTo("done\n");
    assertThat(r.stderrTail()).hasSize(4096).endsWith("eeetail");
    assertThat(r.stderrTruncated()).isTrue();
  }

  @Test
  void the_child_sees_only_allow_listed_and_explicit_variables() {
    Map<String, String> parent = new HashMap<>();
    parent.put("PATH", System.getenv("PATH"));
    parent.put("CFN_TEST_SECRET", "hunter2");
    parent.put("CFN_TEST_SHARED", "shared-value");
    ProcessSpec spec =
        ProcessSpec.builder("env")
            .parentEnvironment(parent)
            .inheritNoEnv()
            .inheritEnv("PATH", "CFN_TEST_SHARED", "CFN_TEST_ABSENT")
            .env("CFN_TEST_EXPLICIT", "explicit-value")
            .stdin(Stdin.none())
            .build();

    ProcessResult r = runOnce(spec, "");

    assertThat(variables(r.stdout()))
        .containsOnlyKeys("PATH", "CFN_TEST_SHARED", "CFN_TEST_EXPLICIT")
        .containsEntry("CFN_TEST_SHARED", "shared-value")
        .containsEntry("CFN_TEST_EXPLICIT", "explicit-value");
    assertThat(r.stdout()).doesNotContain("hunter2");
    assertThat(spec.toString()).doesNotContain("hunter2", "shared-value", "explicit-value");
  }

  @Test
  void the_real_parent_environment_is_never_passed_on_whole() {
    ProcessSpec none = ProcessSpec.builder("env").inheritNoEnv().stdin(Stdin.none()).build();
    ProcessSpec defaults = ProcessSpec.builder("env").stdin(Stdin.none()).build();

    assertThat(runOnce(none, "").stdout()).isEmpty();
    assertThat(variables(runOnce(defaults, "").stdout()).keySet())
        .isSubsetOf(ProcessSpec.DEFAULT_INHERITED_ENV);
  }

  @Test
  void request_variables_must_be_on_the_allow_list() {
    ProcessSpec spec =
        ProcessSpec.builder("sh", "-c", "echo \"mode=$CFN_TEST_MODE\"")
            .parentEnvironment(Map.of())
            .inheritEnv("CFN_TEST_MODE")
            .stdin(Stdin.none())
            .build();
    try (AgentRuntime rt = ProcessTestSupport.runtime(ProcessAgent.type("proc", spec))) {
      ProcessResult allowed = ask(rt, ID, ProcessRequest.of("").withEnv("CFN_TEST_MODE", "fast"));
      ProcessResult refused =
          ask(rt, ID, ProcessRequest.of("").withEnv("LD_PRELOAD", "/tmp/evil-library.so"));

      assertThat(allowed.stdout()).isEqualTo("mode=fast\n");
      assertThat(refused.outcome()).isEqualTo(Outcome.REJECTED);
      assertThat(refused.pid()).as("nothing was started").isEqualTo(-1);
      assertThat(refused.detail()).contains("LD_PRELOAD").doesNotContain("evil-library");
    }
  }

  @Test
  void the_command_runs_in_the_working_directory(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("marker.txt"), "found it");
    ProcessSpec cat =
        ProcessSpec.builder("cat", "marker.txt").workingDirectory(dir).stdin(Stdin.none()).build();
    ProcessSpec pwd = ProcessSpec.builder("pwd").workingDirectory(dir).stdin(Stdin.none()).build();

    assertThat(runOnce(cat, "").stdout()).isEqualTo("found it");
    assertThat(Path.of(runOnce(pwd, "").stdout().strip()).toRealPath()).isEqualTo(dir.toRealPath());
  }

  @Test
  void a_timeout_kills_the_process_with_its_children() throws Exception {
    ProcessSpec spec =
        ProcessSpec.builder("sh", "-c", "sleep 1001 & sleep 1001")
            .timeout(Duration.ofSeconds(2))
            .build();
    try (AgentRuntime rt = ProcessTestSupport.runtime(ProcessAgent.type("proc", spec))) {
      CompletableFuture<Envelope> reply = rt.request(ID, "", WAIT);
      eventually(() -> descendantsMatching("sleep 1001").size() == 3, "sh and its two sleeps");
      List<ProcessHandle> tree = descendantsMatching("sleep 1001");

      ProcessResult r =
          reply.get(WAIT.toMillis(), TimeUnit.MILLISECONDS).payload(ProcessResult.class);

      assertThat(r.outcome()).isEqualTo(Outcome.TIMED_OUT);
      assertThat(r.succeeded()).isFalse();
      assertThat(r.detail()).contains("did not finish within PT2S", "3 processes");
      assertThat(tree).extracting(ProcessHandle::pid).contains(r.pid());
      assertThat(tree).allSatisfy(h -> assertThat(gone(h)).as("pid %d", h.pid()).isTrue());
      assertThat(descendantsMatching("sleep 1001")).allSatisfy(h -> assertThat(gone(h)).isTrue());
    }
  }

  @Test
  void a_tree_that_ignores_sigterm_is_killed_after_the_grace_period(@TempDir Path dir)
      throws Exception {
    Path pidFile = dir.resolve("pids");
    ProcessSpec spec =
        ProcessSpec.builder(
                "sh",
                "-c",
                "trap '' TERM; sleep 1002 & echo $! > \"$PIDS\"; echo $$ >> \"$PIDS\"; wait")
            .env("PIDS", pidFile.toString())
            .timeout(Duration.ofMillis(500))
            .killGrace(Duration.ofMillis(300))
            .build();

    ProcessResult r = runOnce(spec, "");

    assertThat(r.outcome()).isEqualTo(Outcome.TIMED_OUT);
    assertThat(r.exitCode()).as("SIGKILL: 128 + 9").isEqualTo(137);
    assertThat(pids(pidFile, 2)).allSatisfy(pid -> assertThat(gone(pid)).isTrue());
  }

  @Test
  void a_background_child_that_keeps_stdout_open_is_killed_at_the_timeout(@TempDir Path dir) {
    Path pidFile = dir.resolve("pids");
    ProcessSpec spec =
        ProcessSpec.builder(
                "sh", "-c", "sleep 1006 & echo $! > \"$PIDS\"; sleep 0.3; echo parent done")
            .env("PIDS", pidFile.toString())
            .timeout(Duration.ofMillis(1500))
            .build();

    ProcessResult r = runOnce(spec, "");

    assertThat(r.outcome()).isEqualTo(Outcome.TIMED_OUT);
    assertThat(r.exitCode()).as("the parent itself finished").isZero();
    assertThat(r.stdout()).isEqualTo("parent done\n");
    assertThat(r.detail()).contains("left behind kept its output open", "(1 processes)");
    assertThat(gone(pids(pidFile, 1).get(0))).as("the orphaned child").isTrue();
  }

  @Test
  void shutting_the_runtime_down_mid_run_kills_the_process_tree() {
    ProcessSpec spec = ProcessSpec.builder("sh", "-c", "sleep 1005 & sleep 1005").build();
    AgentRuntime rt = ProcessTestSupport.runtime(ProcessAgent.type("proc", spec));
    List<ProcessHandle> tree;
    try {
      rt.send(ID, "");
      eventually(() -> descendantsMatching("sleep 1005").size() == 3, "sh and its two sleeps");
      tree = descendantsMatching("sleep 1005");
    } finally {
      rt.shutdown(Duration.ofMillis(100)); // the run is still going: its handler is interrupted
    }

    eventually(() -> tree.stream().allMatch(ProcessTestSupport::gone), "the tree to be killed");
    assertThat(descendantsMatching("sleep 1005")).allSatisfy(h -> assertThat(gone(h)).isTrue());
  }

  @Test
  void a_program_that_cannot_start_is_a_start_failure() {
    ProcessSpec spec =
        ProcessSpec.builder("/nonexistent/cfn-no-such-program", "--secret-arg").build();

    ProcessResult r = runOnce(spec, "");

    assertThat(r.outcome()).isEqualTo(Outcome.START_FAILED);
    assertThat(r.detail()).contains("cfn-no-such-program").doesNotContain("--secret-arg");
  }

  @Test
  void a_payload_that_is_not_text_is_rejected() {
    ProcessResult r = runOnce(ProcessSpec.builder("cat").build(), 42);

    assertThat(r.outcome()).isEqualTo(Outcome.REJECTED);
    assertThat(r.detail()).contains("java.lang.Integer");
  }

  @Test
  void a_plain_message_from_an_agent_gets_the_result_sent_back() throws Exception {
    BlockingQueue<ProcessResult> results = new LinkedBlockingQueue<>();
    AgentType caller =
        AgentType.of(
            "caller",
            id ->
                (m, ctx) -> {
                  if (m.payload() instanceof ProcessResult r) {
                    results.add(r);
                  } else {
                    ctx.send(ID, "ping");
                  }
                });
    ProcessSpec spec = ProcessSpec.builder("cat").build();
    try (AgentRuntime rt = ProcessTestSupport.runtime(ProcessAgent.type("proc", spec), caller)) {
      rt.send(AgentId.of("caller", "1"), "go");

      ProcessResult r = results.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);

      assertThat(r).isNotNull();
      assertThat(r.stdout()).isEqualTo("ping");
    }
  }

  private static Map<String, String> variables(String envOutput) {
    return Arrays.stream(envOutput.split("\n"))
        .filter(l -> !l.isEmpty())
        .map(l -> l.split("=", 2))
        .collect(Collectors.toMap(kv -> kv[0], kv -> kv.length > 1 ? kv[1] : ""));
  }
}
