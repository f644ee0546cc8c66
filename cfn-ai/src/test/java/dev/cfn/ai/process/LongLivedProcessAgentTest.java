package dev.cfn.ai.process;

import static dev.cfn.ai.process.ProcessTestSupport.WAIT;
import static dev.cfn.ai.process.ProcessTestSupport.ask;
import static dev.cfn.ai.process.ProcessTestSupport.eventually;
import static dev.cfn.ai.process.ProcessTestSupport.gone;
import static dev.cfn.ai.process.ProcessTestSupport.pids;
import static dev.cfn.ai.process.ProcessTestSupport.script;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.ai.process.ProcessResult.Outcome;
import dev.cfn.ai.process.ProcessSpec.Mode;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.Envelope;
import dev.cfn.core.SupervisionStrategy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LongLivedProcessAgentTest {
  private static final AgentId ID = AgentId.of("server", "1");
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * A JSON-lines echo server: answers {"pid":..,"echo":<request>} per line; on an "op" it crashes
   * (exit 3), dies mid-reply (exit 4), answers garbage, hangs with a child (writing the child's pid
   * to $PIDS), answers with a long line, or writes a lot to stderr first.
   */
  private static final String JSON_SERVER =
      """
      while IFS= read -r line; do
        case "$line" in
          *'"crash"'*) echo "crashing on request" >&2; exit 3 ;;
          *'"partial"'*) printf '{"half":'; exit 4 ;;
          *'"garbage"'*) echo "this is not json" ;;
          *'"hang"'*) sleep 1003 & echo $! > "$PIDS"; wait ;;
          *'"big"'*) printf '{"big":"%s"}\\n' "$(head -c 5000 /dev/zero | tr '\\000' b)" ;;
          *'"chatty"'*) head -c 200000 /dev/zero | tr '\\000' e >&2; printf '{"chatty":true}\\n' ;;
          *) printf '{"pid":%s,"echo":%s}\\n' "$$" "$line" ;;
        esac
      done
      """;

  @TempDir Path dir;
  private Path server;
  private Path pidFile;

  @BeforeEach
  void writeServer() throws Exception {
    server = script(dir, "server.sh", JSON_SERVER);
    pidFile = dir.resolve("pids");
  }

  private ProcessSpec.Builder jsonServer() {
    return ProcessSpec.builder("sh", server.toString())
        .mode(Mode.jsonLines())
        .env("PIDS", pidFile.toString());
  }

  private static AgentRuntime runtime(ProcessSpec spec) {
    return ProcessTestSupport.runtime(ProcessAgent.type("server", spec));
  }

  private static int restarts(AgentRuntime rt) {
    return rt.lookup(ID).orElseThrow().metrics().restarts();
  }

  private static JsonNode json(ProcessResult r) throws Exception {
    return JSON.readTree(r.stdout());
  }

  @Test
  void json_lines_replies_match_requests_in_order_from_one_process() throws Exception {
    try (AgentRuntime rt = runtime(jsonServer().build())) {
      List<CompletableFuture<Envelope>> replies = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        replies.add(rt.request(ID, "{\"n\": " + i + ",\n \"text\": \"line\\nbreak\"}", WAIT));
      }

      List<Long> pids = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        ProcessResult r =
            replies.get(i).get(WAIT.toMillis(), TimeUnit.MILLISECONDS).payload(ProcessResult.class);
        assertThat(r.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(r.succeeded()).isTrue();
        assertThat(r.exitCode()).isEqualTo(ProcessResult.NO_EXIT_CODE);
        JsonNode reply = json(r);
        assertThat(reply.path("echo").path("n").asInt()).isEqualTo(i);
        assertThat(reply.path("echo").path("text").asText()).isEqualTo("line\nbreak");
        assertThat(reply.path("pid").asLong()).isEqualTo(r.pid());
        pids.add(r.pid());
      }
      assertThat(pids).as("one process served all").containsOnly(pids.get(0));
      assertThat(restarts(rt)).isZero();
    }
  }

  @Test
  void a_crash_replies_with_the_failure_and_a_restarted_process_serves_the_next_message()
      throws Exception {
    try (AgentRuntime rt = runtime(jsonServer().build())) {
      ProcessResult before = ask(rt, ID, "{\"n\":1}");
      ProcessResult crash = ask(rt, ID, "{\"op\":\"crash\"}");
      ProcessResult after = ask(rt, ID, "{\"n\":2}");

      assertThat(before.outcome()).isEqualTo(Outcome.COMPLETED);
      assertThat(crash.outcome()).isEqualTo(Outcome.EXITED);
      assertThat(crash.exitCode()).isEqualTo(3);
      assertThat(crash.stderrTail()).contains("crashing on request");
      assertThat(crash.detail()).contains("exited with code 3", "restarts");
      assertThat(after.outcome()).isEqualTo(Outcome.COMPLETED);
      assertThat(json(after).path("echo").path("n").asInt()).isEqualTo(2);
      assertThat(after.pid()).isNotEqualTo(before.pid());
      assertThat(restarts(rt)).isEqualTo(1);
      assertThat(gone(before.pid())).isTrue();
    }
  }

  @Test
  void a_process_that_dies_mid_reply_has_exited_and_the_partial_reply_is_shown() {
    try (AgentRuntime rt = runtime(jsonServer().build())) {
      ProcessResult partial = ask(rt, ID, "{\"op\":\"partial\"}");
      ProcessResult after = ask(rt, ID, "{\"n\":1}");

      assertThat(partial.outcome()).isEqualTo(Outcome.EXITED);
      assertThat(partial.exitCode()).isEqualTo(4);
      assertThat(partial.stdout()).isEqualTo("{\"half\":");
      assertThat(after.outcome()).isEqualTo(Outcome.COMPLETED);
      assertThat(restarts(rt)).isEqualTo(1);
    }
  }

  @Test
  void a_process_that_exits_after_n_lines_is_replaced() throws Exception {
    Path twoLines =
        script(
            dir,
            "two-lines.sh",
            """
            i=0
            while IFS= read -r l; do
              echo "got $l"
              i=$((i+1))
              [ "$i" -ge 2 ] && exit 0
            done
            """);
    ProcessSpec spec = ProcessSpec.builder("sh", twoLines.toString()).mode(Mode.textLine()).build();
    try (AgentRuntime rt = runtime(spec)) {
      ProcessResult a = ask(rt, ID, "a");
      ProcessResult b = ask(rt, ID, "b");
      ProcessResult c = ask(rt, ID, "c");
      ProcessResult d = ask(rt, ID, "d");
      ProcessResult e = ask(rt, ID, "e");

      assertThat(List.of(a.stdout(), b.stdout())).containsExactly("got a", "got b");
      assertThat(c.outcome()).isEqualTo(Outcome.EXITED);
      assertThat(c.exitCode()).isZero();
      assertThat(List.of(d.stdout(), e.stdout())).containsExactly("got d", "got e");
      assertThat(d.pid()).isNotEqualTo(a.pid());
      assertThat(restarts(rt)).isEqualTo(1);
    }
  }

  @Test
  void a_reply_that_is_not_json_is_a_protocol_error_and_the_process_is_restarted()
      throws Exception {
    try (AgentRuntime rt = runtime(jsonServer().build())) {
      ProcessResult before = ask(rt, ID, "{\"n\":1}");
      ProcessResult garbage = ask(rt, ID, "{\"op\":\"garbage\"}");
      ProcessResult after = ask(rt, ID, "{\"n\":2}");

      assertThat(garbage.outcome()).isEqualTo(Outcome.PROTOCOL_ERROR);
      assertThat(garbage.stdout()).isEqualTo("this is not json");
      assertThat(garbage.detail()).contains("not a JSON object");
      assertThat(json(after).path("echo").path("n").asInt()).isEqualTo(2);
      assertThat(after.pid()).isNotEqualTo(before.pid());
      assertThat(gone(before.pid())).isTrue();
    }
  }

  @Test
  void a_process_that_never_answers_is_killed_with_its_children_at_the_timeout() throws Exception {
    try (AgentRuntime rt = runtime(jsonServer().timeout(Duration.ofSeconds(1)).build())) {
      ProcessResult before = ask(rt, ID, "{\"n\":1}");
      ProcessResult hung = ask(rt, ID, "{\"op\":\"hang\"}");
      long sleeper = pids(pidFile, 1).get(0);
      ProcessResult after = ask(rt, ID, "{\"n\":2}");

      assertThat(hung.outcome()).isEqualTo(Outcome.TIMED_OUT);
      assertThat(hung.detail()).contains("did not answer within PT1S");
      assertThat(gone(before.pid())).isTrue();
      assertThat(gone(sleeper)).as("the server's child").isTrue();
      assertThat(after.outcome()).isEqualTo(Outcome.COMPLETED);
      assertThat(after.pid()).isNotEqualTo(before.pid());
    }
  }

  @Test
  void stopping_the_runtime_kills_the_process_and_its_children() throws Exception {
    Path withChild =
        script(
            dir,
            "with-child.sh",
            """
            sleep 1004 &
            echo $! > "$PIDS"
            while IFS= read -r l; do echo "ok $l"; done
            """);
    ProcessSpec spec =
        ProcessSpec.builder("sh", withChild.toString())
            .mode(Mode.textLine())
            .env("PIDS", pidFile.toString())
            .build();
    AgentRuntime rt = runtime(spec);
    ProcessResult r;
    long child;
    try {
      r = ask(rt, ID, "x");
      child = pids(pidFile, 1).get(0);
      assertThat(r.stdout()).isEqualTo("ok x");
      assertThat(gone(child)).isFalse();
    } finally {
      rt.close();
    }

    assertThat(gone(r.pid())).as("the server").isTrue();
    assertThat(gone(child)).as("the server's child").isTrue();
  }

  @Test
  void a_chatty_stderr_never_stalls_the_process() throws Exception {
    try (AgentRuntime rt = runtime(jsonServer().maxStderrBytes(1024).build())) {
      for (int i = 0; i < 3; i++) {
        ProcessResult r = ask(rt, ID, "{\"op\":\"chatty\"}");

        assertThat(r.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(json(r).path("chatty").asBoolean()).isTrue();
        assertThat(r.stderrTail().length()).isLessThanOrEqualTo(1024);
      }
      assertThat(restarts(rt)).isZero();
    }
  }

  @Test
  void a_reply_over_the_bound_is_cut_and_flagged_and_the_stream_stays_in_step() throws Exception {
    try (AgentRuntime rt = runtime(jsonServer().maxStdoutBytes(100).build())) {
      ProcessResult big = ask(rt, ID, "{\"op\":\"big\"}");
      ProcessResult next = ask(rt, ID, "{\"n\":7}");

      assertThat(big.outcome()).isEqualTo(Outcome.COMPLETED);
      assertThat(big.stdoutTruncated()).isTrue();
      assertThat(big.stdout()).hasSize(100).startsWith("{\"big\":\"bbb");
      assertThat(json(next).path("echo").path("n").asInt()).isEqualTo(7);
      assertThat(next.pid()).isEqualTo(big.pid());
    }
  }

  @Test
  void text_lines_are_read_until_the_terminator() throws Exception {
    Path twoAndEnd =
        script(
            dir,
            "two-and-end.sh",
            """
            while IFS= read -r l; do
              echo "one $l"
              echo "two $l"
              echo END
            done
            """);
    ProcessSpec spec =
        ProcessSpec.builder("sh", twoAndEnd.toString()).mode(Mode.textLines("END")).build();
    try (AgentRuntime rt = runtime(spec)) {
      assertThat(ask(rt, ID, "x").stdout()).isEqualTo("one x\ntwo x");
      assertThat(ask(rt, ID, "y").stdout()).isEqualTo("one y\ntwo y");
    }
  }

  @Test
  void input_that_breaks_the_protocol_is_rejected_without_touching_the_process() {
    try (AgentRuntime rt = runtime(jsonServer().build())) {
      ProcessResult first = ask(rt, ID, "{\"n\":1}");
      ProcessResult notJson = ask(rt, ID, "not json");
      ProcessResult withArgs = ask(rt, ID, ProcessRequest.of("{}").withArgs("--x"));
      ProcessResult last = ask(rt, ID, "{\"n\":2}");

      assertThat(notJson.outcome()).isEqualTo(Outcome.REJECTED);
      assertThat(notJson.detail()).contains("not a JSON object");
      assertThat(withArgs.outcome()).isEqualTo(Outcome.REJECTED);
      assertThat(withArgs.detail()).contains("per-message mode only");
      assertThat(last.pid()).isEqualTo(first.pid());
      assertThat(restarts(rt)).isZero();
    }
  }

  @Test
  void a_line_break_in_text_mode_is_rejected() {
    ProcessSpec spec = ProcessSpec.builder("cat").mode(Mode.textLine()).build();
    try (AgentRuntime rt = runtime(spec)) {
      ProcessResult r = ask(rt, ID, "two\nlines");

      assertThat(r.outcome()).isEqualTo(Outcome.REJECTED);
      assertThat(ask(rt, ID, "one line").stdout()).isEqualTo("one line");
    }
  }

  @Test
  void without_a_running_process_messages_get_a_start_failure() {
    ProcessSpec spec =
        ProcessSpec.builder("/nonexistent/cfn-no-such-server").mode(Mode.jsonLines()).build();
    try (AgentRuntime rt =
        ProcessTestSupport.runtime(
            ProcessAgent.type("server", spec, SupervisionStrategy.resume()))) {
      ProcessResult r = ask(rt, ID, "{}");

      assertThat(r.outcome()).isEqualTo(Outcome.START_FAILED);
      assertThat(r.detail()).contains("not running");
      eventually(() -> rt.lookup(ID).isPresent(), "the agent lives on under resume");
    }
  }
}
