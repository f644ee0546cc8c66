package dev.cfn.ai;

import static dev.cfn.ai.AgentFixtures.definition;
import static dev.cfn.ai.AgentFixtures.eventually;
import static dev.cfn.ai.AgentFixtures.provider;
import static dev.cfn.ai.AgentFixtures.saveNote;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.model.ModelProvider;
import dev.cfn.ai.model.ProviderConfig;
import dev.cfn.ai.tool.ToolRegistry;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.DeadLetter;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.RetryPolicy;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.RecordedRequest;
import dev.cfn.testkit.Reply;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Idempotent replay across a restart, with a durable call log: a message handled again (same id
 * from the journal, or the same idempotency key) replays its recorded model and tool calls instead
 * of making them again. Each "process" is a runtime, a journal and a call-log store opened on the
 * same files and closed before the next opens them.
 */
class LlmAgentReplayTest {
  private static final AgentId CLIENT = AgentId.of("client", "1");
  private static final AgentId SCRIBE = AgentId.of("scribe", "1");

  @TempDir Path dir;
  private ModelServer server;
  private final List<String> notes = new CopyOnWriteArrayList<>();
  private final ToolRegistry registry = new ToolRegistry();

  @BeforeEach
  void start() {
    server = ModelServer.start();
    registry.register(saveNote(notes));
  }

  @AfterEach
  void stop() {
    server.close();
  }

  /**
   * An agent that sends the envelopes it is given (as itself, so answers come back to it) and
   * collects every other payload in {@code inbox}.
   */
  private static AgentType client(AgentFixtures.Inbox inbox) {
    return AgentType.of(
        "client",
        id ->
            (m, ctx) -> {
              if (m.payload() instanceof Envelope.Builder b) {
                ctx.send(b);
              } else {
                inbox.all.add(m.payload());
                inbox.payloads.add(m.payload());
              }
            });
  }

  private AgentType scribe(ModelProvider model, SqliteCallLogStore calls) {
    return LlmAgent.builder(definition("scribe", "[save_note]"))
        .model(model)
        .tools(registry)
        .callLog(CallLog.durable(calls))
        .type("scribe");
  }

  private SqliteJournal journal() {
    return SqliteJournal.builder(dir.resolve("cfn.db")).payloadType(Task.class).open();
  }

  private SqliteCallLogStore calls() {
    return SqliteCallLogStore.builder(dir.resolve("calls.db")).sweepEvery(Duration.ZERO).open();
  }

  private long firstTurnRequests() {
    return server.requests().stream().filter(r -> !r.hasToolResult()).count();
  }

  @ParameterizedTest
  @EnumSource(ProviderConfig.Kind.class)
  void aRedeliveredMessageReplaysItsRecordedCallsAfterARestart(ProviderConfig.Kind kind)
      throws Exception {
    // turn 1 asks for the tool; turn 2 fails once with a 500 (the "crash"), then answers
    server
        .script()
        .on(Match.toolResultPresent())
        .reply(Reply.status(500, "boom"), Reply.text("Noted."));
    server.script().on(Match.any()).reply(Reply.toolCall("save_note", "{\"text\":\"buy milk\"}"));
    long messageId;
    try (ModelProvider model = provider(server, kind)) {
      AgentFixtures.Inbox inbox = new AgentFixtures.Inbox();
      try (SqliteCallLogStore calls = calls();
          AgentRuntime first =
              AgentRuntime.builder()
                  .jvmMetrics(false)
                  .journal(journal())
                  .retryPolicy(new RetryPolicy(Duration.ofMillis(1), 1.0, Duration.ofMillis(1), 1))
                  .register(client(inbox))
                  .register(scribe(model, calls))
                  .build()) {
        first.send(
            CLIENT,
            Envelope.to(SCRIBE)
                .delivery(DeliveryMode.RELIABLE)
                .payload(new Task("Remember to buy milk")));
        eventually(
            () -> first.deadLetters().count(DeadLetter.Reason.HANDLER_FAILED) == 1,
            "the failed run is dead-lettered (a retryable model error is thrown on RELIABLE)");
        messageId =
            first.deadLetters().recent().stream()
                .filter(d -> d.reason() == DeadLetter.Reason.HANDLER_FAILED)
                .findFirst()
                .orElseThrow()
                .envelope()
                .id();
        assertThat(notes).containsExactly("buy milk");
        assertThat(server.requests()).hasSize(2);
        assertThat(calls.count()).as("turn 1's model call and its tool call").isEqualTo(2);
        assertThat(inbox.all).as("no answer for a run that will be retried").isEmpty();
      }

      AgentFixtures.Inbox inbox2 = new AgentFixtures.Inbox();
      try (SqliteCallLogStore calls = calls();
          AgentRuntime second =
              AgentRuntime.builder()
                  .jvmMetrics(false)
                  .journal(journal())
                  .register(client(inbox2))
                  .register(scribe(model, calls))
                  .build()) {
        assertThat(second.replayDeadLetter(messageId)).isTrue();

        assertThat(inbox2.next())
            .isInstanceOfSatisfying(
                TaskResult.class,
                r -> {
                  assertThat(r.text()).isEqualTo("Noted.");
                  assertThat(r.turns()).isEqualTo(2);
                  assertThat(r.toolCalls()).isEqualTo(1);
                });
        assertThat(calls.count()).isEqualTo(3);
      }
    }
    assertThat(notes).as("the tool ran once").containsExactly("buy milk");
    assertThat(firstTurnRequests()).as("turn 1 reached the model once").isEqualTo(1);
    assertThat(server.requests())
        .as("turn 2: the failed attempt and the one after the restart")
        .hasSize(3);
    RecordedRequest resumed = server.requests().get(2);
    assertThat(resumed.hasToolResult()).isTrue();
    assertThat(resumed.body().toString()).contains("saved note 1");
  }

  @ParameterizedTest
  @EnumSource(ProviderConfig.Kind.class)
  void theSameIdempotencyKeyInAnotherProcessReplaysTheWholeTask(ProviderConfig.Kind kind)
      throws Exception {
    server.script().on(Match.toolResultPresent()).reply(Reply.text("Saved.").withUsage(40, 2, 0));
    server
        .script()
        .on(Match.any())
        .reply(Reply.toolCall("save_note", "{\"text\":\"call mum\"}").withUsage(30, 10, 0));
    Envelope.Builder task =
        Envelope.to(SCRIBE)
            .headers(Map.of(LlmAgent.IDEMPOTENCY_HEADER, "task-42"))
            .payload(new Task("Remember to call mum"));
    Object firstAnswer;
    try (ModelProvider model = provider(server, kind)) {
      AgentFixtures.Inbox inbox = new AgentFixtures.Inbox();
      try (SqliteCallLogStore calls = calls();
          AgentRuntime rt =
              AgentFixtures.runtime().register(client(inbox)).register(scribe(model, calls))) {
        rt.send(CLIENT, task);
        firstAnswer = inbox.next();
        assertThat(firstAnswer).isInstanceOf(TaskResult.class);
      }
      assertThat(server.requests()).hasSize(2);

      AgentFixtures.Inbox inbox2 = new AgentFixtures.Inbox();
      try (SqliteCallLogStore calls = calls();
          AgentRuntime rt =
              AgentFixtures.runtime().register(client(inbox2)).register(scribe(model, calls))) {
        rt.send(CLIENT, task);
        assertThat(inbox2.next()).as("the same answer, replayed").isEqualTo(firstAnswer);
        assertThat(server.requests()).as("no model call made again").hasSize(2);
        assertThat(notes).as("the tool did not run again").containsExactly("call mum");

        // without the key, a best-effort message is a new task: nothing redelivers it
        rt.send(CLIENT, Envelope.to(SCRIBE).payload(new Task("Remember to call mum")));
        assertThat(inbox2.next()).isInstanceOf(TaskResult.class);
        assertThat(server.requests()).hasSize(4);
        assertThat(notes).hasSize(2);
        assertThat(calls.count()).as("unkeyed calls are not recorded").isEqualTo(3);
      }
    }
  }

  /** Answers by the task's subject, so that a replayed answer shows which task it belonged to. */
  private void answerBySubject() {
    server.script().on(Match.lastUserMessageContains("milk")).reply(Reply.text("About milk."));
    server.script().on(Match.lastUserMessageContains("bread")).reply(Reply.text("About bread."));
  }

  private static String answerText(Object payload) {
    assertThat(payload).isInstanceOf(TaskResult.class);
    return ((TaskResult) payload).text();
  }

  @ParameterizedTest
  @EnumSource(ProviderConfig.Kind.class)
  void anIdempotencyKeyReusedForAnotherTaskDoesNotReplayTheFirstTasksAnswers(
      ProviderConfig.Kind kind) throws Exception {
    answerBySubject();
    try (ModelProvider model = provider(server, kind)) {
      AgentFixtures.Inbox inbox = new AgentFixtures.Inbox();
      try (AgentRuntime rt =
          AgentFixtures.runtime()
              .register(client(inbox))
              .register(
                  LlmAgent.builder(definition("scribe", "[save_note]"))
                      .model(model)
                      .tools(registry)
                      .type("scribe"))) {
        Map<String, String> sameKey = Map.of(LlmAgent.IDEMPOTENCY_HEADER, "task-7");
        rt.send(CLIENT, Envelope.to(SCRIBE).headers(sameKey).payload(new Task("Buy milk")));
        assertThat(answerText(inbox.next())).isEqualTo("About milk.");

        rt.send(CLIENT, Envelope.to(SCRIBE).headers(sameKey).payload(new Task("Buy bread")));
        assertThat(answerText(inbox.next()))
            .as("another task under the same key asks the model")
            .isEqualTo("About bread.");
        assertThat(server.requests()).hasSize(2);

        rt.send(CLIENT, Envelope.to(SCRIBE).headers(sameKey).payload(new Task("Buy milk")));
        assertThat(answerText(inbox.next())).isEqualTo("About milk.");
        assertThat(server.requests()).as("the same task under the key still replays").hasSize(2);
      }
    }
  }

  /**
   * A journal restored from an old backup numbers RELIABLE messages again from where the backup
   * stopped, so a new task can get the id of a task whose calls the durable call log holds.
   */
  @ParameterizedTest
  @EnumSource(ProviderConfig.Kind.class)
  void aReliableMessageIdReusedAfterAJournalRestoreDoesNotReplayAnotherTask(
      ProviderConfig.Kind kind) throws Exception {
    answerBySubject();
    try (ModelProvider model = provider(server, kind)) {
      for (String[] run :
          new String[][] {
            {"before.db", "Buy milk", "About milk."}, {"restored.db", "Buy bread", "About bread."}
          }) {
        AgentFixtures.Inbox inbox = new AgentFixtures.Inbox();
        try (SqliteCallLogStore calls = calls();
            AgentRuntime rt =
                AgentRuntime.builder()
                    .jvmMetrics(false)
                    .journal(
                        SqliteJournal.builder(dir.resolve(run[0])).payloadType(Task.class).open())
                    .register(client(inbox))
                    .register(scribe(model, calls))
                    .build()) {
          rt.send(
              CLIENT,
              Envelope.to(SCRIBE).delivery(DeliveryMode.RELIABLE).payload(new Task(run[1])));
          assertThat(answerText(inbox.next())).isEqualTo(run[2]);
        }
      }
    }
    assertThat(server.requests()).as("each task asked the model").hasSize(2);
  }

  /**
   * Many agents recording at once through the group-committed log: each task's model call is
   * recorded once, and after a restart the same tasks, sent again all at once, replay every answer
   * from the file without reaching the model.
   */
  @ParameterizedTest
  @EnumSource(ProviderConfig.Kind.class)
  void concurrentTasksShareTheDurableLogAndAllReplayAfterARestart(ProviderConfig.Kind kind)
      throws Exception {
    int tasks = 32;
    server.script().on(Match.any()).reply(Reply.text("Done."));
    List<Envelope.Builder> sends = new java.util.ArrayList<>();
    for (int i = 0; i < tasks; i++) {
      sends.add(
          Envelope.to(AgentId.of("scribe", Integer.toString(i)))
              .headers(Map.of(LlmAgent.IDEMPOTENCY_HEADER, "task-" + i))
              .payload(new Task("Task number " + i)));
    }
    // 32 connections open at once: as in production, a connection the server drops before any
    // byte of an answer is resent at once (ModelProvider.create), so the test is about the log
    int reachedInProcess1 = -1;
    try (ModelProvider model = ModelProvider.create(AgentFixtures.config(server, kind))) {
      for (int process = 1; process <= 2; process++) {
        AgentFixtures.Inbox inbox = new AgentFixtures.Inbox();
        try (SqliteCallLogStore calls = calls();
            AgentRuntime rt =
                AgentFixtures.runtime().register(client(inbox)).register(scribe(model, calls))) {
          for (Envelope.Builder send : sends) {
            rt.send(CLIENT, send);
          }
          for (int i = 0; i < tasks; i++) {
            assertThat(inbox.next())
                .isInstanceOfSatisfying(
                    TaskResult.class, r -> assertThat(r.text()).isEqualTo("Done."));
          }
          assertThat(calls.count()).as("one record per task").isEqualTo(tasks);
        }
        if (process == 1) {
          reachedInProcess1 = server.requests().size();
          assertThat(reachedInProcess1)
              .as("process 1 reached the model for every task")
              .isBetween(tasks, tasks + 2);
        } else {
          assertThat(server.requests())
              .as("process 2 replayed every task from the log, reaching the model never")
              .hasSize(reachedInProcess1);
        }
      }
    }
  }
}
