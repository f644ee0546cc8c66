package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.flow.loop.LoopRecord;
import dev.cfn.flow.loop.LoopRunner;
import dev.cfn.server.auth.Role;
import dev.cfn.server.auth.Scope;
import dev.cfn.server.auth.TokenStore;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.RecordedRequest;
import dev.cfn.testkit.Reply;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node SIGKILLed in a JVM of its own ({@link CrashingNode}), then started again on the same
 * folder. A CFN Loop run the node answered 201 for, and then crashed before the run's coordinator
 * committed anything, starts when the node is back and reaches its owner's decision; and a model
 * call a node's agent recorded before the crash is not made again: only the call in flight at the
 * crash is.
 */
class NodeCrashTest {
  @TempDir Path home;

  static final String LOOP =
      "\"task\":\"Write add\",\"implementers\":[\"coder\"],\"validators\":[\"reviewer\","
          + "\"tester\"],\"owner\":\"owner\",\"callTimeoutMs\":150000";

  @Test
  void aRunAcceptedJustBeforeACrashStartsWhenTheNodeIsBack() throws Exception {
    LoopSubmitTest.definitions(home);
    String operator = token(Role.OPERATOR);
    try (ModelServer models = ModelServer.start()) {
      LoopSubmitTest.script(models, LoopSubmitTest.answer("coder"));
      try (Child node = Child.start(home, models, "hold")) {
        HttpResponse<String> r =
            node.call("POST", "/v1/loops", operator, "{\"run\":\"a-1\"," + LOOP + "}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        node.await("HELD a-1"); // the run's start reached its coordinator, which commits nothing
        // what the node shows between the 201 and the coordinator's first record: the run, RUNNING
        HttpResponse<String> shown = node.call("GET", "/v1/loops/a-1", operator, null);
        assertThat(shown.statusCode()).as(shown.body()).isEqualTo(200);
        assertThat(Gate.JSON.readTree(shown.body()).path("status").asText()).isEqualTo("RUNNING");
      } // SIGKILL
      try (SqliteJournal j = journal()) {
        assertThat(j.state(LoopRunner.coordinator("a-1"), LoopRecord.STATE_KEY))
            .as("the coordinator had committed nothing at the kill")
            .isEmpty();
        assertThat(j.state(LoopRunner.INDEX, "a-1")).isEmpty();
      }
      assertThat(models.requests()).as("no agent was asked before the kill").isEmpty();

      try (Child node = Child.start(home, models, "serve")) {
        JsonNode waiting = node.until("a-1", "WAITING", operator);
        assertThat(waiting.toString()).contains("int add(int a, int b)", "licence question");
        HttpResponse<String> decided =
            node.call("POST", "/v1/loops/a-1/decision", operator, "{\"decision\":\"PROCEED\"}");
        assertThat(decided.statusCode()).as(decided.body()).isEqualTo(200);
        assertThat(Gate.JSON.readTree(decided.body()).path("status").asText())
            .isEqualTo("ACCEPTED");
      }
      assertThat(models.requests().stream().filter(system("coder")).count())
          .as("the coder was asked once, after the restart")
          .isEqualTo(1);
    }
  }

  @Test
  void aModelCallANodeAgentRecordedBeforeACrashIsNotMadeAgain() throws Exception {
    LoopSubmitTest.definitions(home);
    // the coder reads its notes first (a tool call: two model calls, the first recorded)
    Files.writeString(
        home.resolve(".claude/agents/coder.md"),
        "---\nname: coder\ndescription: the loop's coder\ntools: [memory_get]\nmodel: test-model"
            + "\n---\nYou are the coder.\n");
    String operator = token(Role.OPERATOR);
    try (ModelServer models = ModelServer.start()) {
      Match coder = LoopSubmitTest.system("coder");
      models
          .script()
          .on(coder.and(Match.toolResultPresent()))
          // the second call is in flight when the node is killed; asked again, it is answered
          .reply(
              LoopSubmitTest.answer("coder").after(Duration.ofSeconds(60)),
              LoopSubmitTest.answer("coder"));
      models
          .script()
          .on(coder)
          .reply(Reply.toolCall("memory_get", "{\"namespace\":\"notes\",\"key\":\"add\"}"));
      for (String v : List.of("reviewer", "tester", "owner")) {
        models.script().on(LoopSubmitTest.system(v)).reply(LoopSubmitTest.answer(v));
      }
      Predicate<RecordedRequest> first = system("coder").and(r -> !r.hasToolResult());
      Predicate<RecordedRequest> second = system("coder").and(RecordedRequest::hasToolResult);
      try (Child node = Child.start(home, models, "serve")) {
        HttpResponse<String> r =
            node.call("POST", "/v1/loops", operator, "{\"run\":\"c-1\"," + LOOP + "}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (models.requests().stream().noneMatch(second) && System.nanoTime() < end) {
          Thread.sleep(20);
        }
        // the second call is asked only after the first one's answer was recorded and used
        assertThat(models.requests()).anyMatch(second);
      } // SIGKILL, during the coder's second model call
      assertThat(models.requests().stream().filter(first).count()).isEqualTo(1);

      try (Child node = Child.start(home, models, "serve")) {
        JsonNode waiting = node.until("c-1", "WAITING", operator);
        assertThat(waiting.toString()).contains("int add(int a, int b)", "licence question");
      }
      assertThat(models.requests().stream().filter(first).count())
          .as("the coder's recorded first model call comes from the call log after the crash")
          .isEqualTo(1);
      assertThat(models.requests().stream().filter(second).count())
          .as("the call in flight at the crash is made again")
          .isEqualTo(2);
    }
  }

  private static Predicate<RecordedRequest> system(String agent) {
    return r -> String.valueOf(r.system()).contains("You are the " + agent + ".");
  }

  private String token(Role role) {
    try (TokenStore store = TokenStore.open(home.resolve(TokenStore.DEFAULT_FILE))) {
      return store
          .create(role, List.of(Scope.ALL), Duration.ofDays(1), "test", TestNode.ACTOR)
          .secret();
    }
  }

  private SqliteJournal journal() {
    return SqliteJournal.builder(home.resolve(".cfn").resolve("cfn.db"))
        .payloadType(LoopRunner.journalPayloadTypes().toArray(new Class<?>[0]))
        .payloadType(LoopRuns.Accepted.class)
        .open();
  }

  /** A {@link CrashingNode} JVM; closing it kills it with SIGKILL. */
  static final class Child implements AutoCloseable {
    private final Process process;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final HttpClient http =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private String url;

    private Child(Process process) {
      this.process = process;
      Thread.ofVirtual()
          .start(
              () -> {
                try (BufferedReader in =
                    new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                  for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                  }
                } catch (java.io.IOException e) {
                  // the child was killed
                }
              });
    }

    static Child start(Path home, ModelServer models, String mode) throws Exception {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Process p =
          new ProcessBuilder(
                  java,
                  "--enable-native-access=ALL-UNNAMED",
                  "-cp",
                  System.getProperty("java.class.path"),
                  CrashingNode.class.getName(),
                  home.toString(),
                  models.openAiBaseUrl(),
                  mode)
              .redirectError(
                  home.resolve("node-" + mode + "-" + System.nanoTime() + ".err").toFile())
              .start();
      Child c = new Child(p);
      try {
        c.url = c.await("URL ").substring(4);
      } catch (RuntimeException | Error e) {
        c.close();
        throw e;
      }
      return c;
    }

    /** The first line of the child's output that starts with {@code prefix} (within 120 s). */
    String await(String prefix) throws InterruptedException {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (System.nanoTime() < end) {
        String line = lines.poll(100, TimeUnit.MILLISECONDS);
        if (line != null && line.startsWith(prefix)) {
          return line;
        }
        if (line == null && !process.isAlive() && lines.isEmpty()) {
          throw new AssertionError("the node ended (exit " + process.exitValue() + ")");
        }
      }
      throw new AssertionError("the node printed no line starting with '" + prefix + "'");
    }

    HttpResponse<String> call(String method, String path, String token, String json)
        throws Exception {
      HttpRequest.Builder r =
          HttpRequest.newBuilder(URI.create(url + path))
              .timeout(Duration.ofSeconds(30))
              .header("Authorization", "Bearer " + token);
      if (json != null) {
        r.header("Content-Type", "application/json")
            .method(method, HttpRequest.BodyPublishers.ofString(json));
      } else {
        r.method(method, HttpRequest.BodyPublishers.noBody());
      }
      return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Reads run {@code run} until its status is {@code status}, for at most 120 s. */
    JsonNode until(String run, String status, String token) throws Exception {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      String last = "";
      while (System.nanoTime() < end) {
        HttpResponse<String> r = call("GET", "/v1/loops/" + run, token, null);
        last = r.body();
        if (r.statusCode() == 200
            && Gate.JSON.readTree(last).path("status").asText().equals(status)) {
          return Gate.JSON.readTree(last);
        }
        Thread.sleep(100);
      }
      String shown = last;
      try {
        JsonNode j = Gate.JSON.readTree(last);
        shown = j.path("status").asText() + " (" + j.path("reason").asText() + ")";
      } catch (java.io.IOException notJson) {
        // shown as it came
      }
      throw new AssertionError("run " + run + " did not become " + status + ": " + shown);
    }

    @Override
    public void close() throws InterruptedException {
      process.destroyForcibly(); // SIGKILL
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }
}
