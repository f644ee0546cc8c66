package dev.cfn.ai;

import static dev.cfn.ai.AgentFixtures.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentRuntime;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.RecordedRequest;
import dev.cfn.testkit.Reply;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The final answer of a RELIABLE request, committed with the request's acknowledgement (the reply
 * it journals) and recorded nowhere else, across a SIGKILL: a child JVM ({@link
 * ReliableAnswerChild}) sends tasks as RELIABLE requests to {@link LlmAgent}s and kills itself
 * right after its K-th reply, with tasks in flight; a second runtime on the same files finishes the
 * rest. No model call whose answer was acknowledged is made again, at most the call in flight at
 * the kill is, neither the call log nor the journal's call records hold anything (one-turn tasks
 * need no record: the acknowledgement is the record), and the journal checks clean.
 */
class ReliableAnswerCrashTest {
  private static final int TASKS = 240;
  private static final int KILL_AFTER = 60;

  @TempDir Path dir;

  @Test
  void noAcknowledgedAnswerIsAskedAgainAfterASigkill() throws Exception {
    try (ModelServer server = ModelServer.start()) {
      server.script().on(Match.any()).reply(Reply.text("Done."));
      Map<Integer, Long> acknowledged = runChildUntilKilled(server);
      assertThat(acknowledged).hasSize(KILL_AFTER);

      try (SqliteCallLogStore calls = ReliableAnswerChild.calls(dir);
          AgentRuntime second =
              AgentRuntime.builder()
                  .jvmMetrics(false)
                  .journal(ReliableAnswerChild.journal(dir))
                  .register(ReliableAnswerChild.agents(server.openAiBaseUrl(), calls))
                  .build()) {
        eventually(
            () -> second.pendingCount() == 0,
            "the second runtime handles every request the first left pending");
        assertThat(calls.count())
            .as("one-turn answers commit with the acknowledgement, not in the call log")
            .isZero();
      }

      Map<Integer, Integer> asked = askedPerTask(server.requests());
      for (int task : acknowledged.keySet()) {
        assertThat(asked.get(task))
            .as("task %d was answered and acknowledged before the kill: asked once", task)
            .isEqualTo(1);
      }
      assertThat(asked.values())
          .as("at most the call in flight at the kill is made again")
          .allMatch(n -> n <= 2);

      assertThat(callKeys())
          .as("no call record is written for an answer its acknowledgement commits")
          .isEmpty();
    }
    try (SqliteJournal journal = ReliableAnswerChild.journal(dir)) {
      assertThat(journal.check().problems()).isEmpty();
    }
  }

  /** Runs the child until it kills itself; the tasks it saw answered, with their request ids. */
  private Map<Integer, Long> runChildUntilKilled(ModelServer server) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child =
        new ProcessBuilder(
                java,
                "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow",
                "-cp",
                System.getProperty("java.class.path"),
                ReliableAnswerChild.class.getName(),
                dir.toString(),
                server.openAiBaseUrl(),
                Integer.toString(TASKS),
                Integer.toString(KILL_AFTER))
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    Map<Integer, Long> done = new LinkedHashMap<>();
    List<String> other = new ArrayList<>();
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      assertThat(out.readLine()).as("the child opened its stores").isEqualTo("OPEN");
      String line;
      while ((line = out.readLine()) != null) { // until the child's death closes the pipe
        String[] parts = line.split(" ");
        if (parts[0].equals("DONE")) {
          done.put(Integer.parseInt(parts[1]), Long.parseLong(parts[2]));
        } else {
          other.add(line);
        }
      }
      assertThat(child.waitFor(120, TimeUnit.SECONDS)).as("the child died").isTrue();
    } finally {
      child.destroyForcibly();
    }
    assertThat(other).as("the child's other lines").isEmpty();
    assertThat(child.exitValue()).as("killed by SIGKILL (128 + 9)").isEqualTo(137);
    return done;
  }

  /** Model requests per task number, from the prompts the server saw. */
  private static Map<Integer, Integer> askedPerTask(List<RecordedRequest> requests) {
    Map<Integer, Integer> asked = new HashMap<>();
    for (RecordedRequest r : requests) {
      String prompt = r.userMessages().getLast();
      assertThat(prompt).startsWith("task ");
      asked.merge(Integer.parseInt(prompt.substring(5)), 1, Integer::sum);
    }
    return asked;
  }

  /** The keys of the journal's call records, read straight from the file. */
  private List<String> callKeys() throws Exception {
    List<String> keys = new ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cfn.db"));
        Statement sql = c.createStatement();
        ResultSet rows = sql.executeQuery("SELECT key FROM calls")) {
      while (rows.next()) {
        keys.add(rows.getString(1));
      }
    }
    return keys;
  }
}
