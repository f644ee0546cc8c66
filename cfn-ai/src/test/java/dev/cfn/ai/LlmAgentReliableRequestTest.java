package dev.cfn.ai;

import static dev.cfn.ai.AgentFixtures.definition;
import static dev.cfn.ai.AgentFixtures.provider;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.ai.budget.Budget;
import dev.cfn.ai.model.ModelProvider;
import dev.cfn.ai.model.ProviderConfig;
import dev.cfn.ai.tool.ToolRegistry;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.spi.JournalException;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A RELIABLE request from outside the runtime straight to an {@link LlmAgent}, with no relay agent:
 * the agent answers it, the answer is journaled with the request's acknowledgement, and a caller
 * whose runtime went away before the answer claims it after the restart by its key.
 */
class LlmAgentReliableRequestTest {
  private static final AgentId SCRIBE = AgentId.of("scribe", "1");
  private static final Duration LONG = Duration.ofSeconds(60);

  @TempDir Path dir;
  private ModelServer server;

  @BeforeEach
  void start() {
    server = ModelServer.start();
    server.script().on(Match.any()).reply(Reply.text("Done."));
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private SqliteJournal journal() {
    return SqliteJournal.builder(dir.resolve("cfn.db"))
        .payloadType(Task.class, TaskResult.class, TaskFailed.class)
        .open();
  }

  private static AgentType scribe(ModelProvider model) {
    return LlmAgent.builder(definition("scribe", "[]"))
        .model(model)
        .tools(new ToolRegistry())
        .type("scribe");
  }

  private static Envelope.Builder task(String prompt) {
    return Envelope.to(SCRIBE)
        .delivery(DeliveryMode.RELIABLE)
        .headers(Map.of("tenant", "acme"))
        .payload(new Task(prompt));
  }

  @Test
  void anLlmAgentAnswersAReliableRequestFromOutside() throws Exception {
    try (ModelProvider model = provider(server, ProviderConfig.Kind.OPENAI);
        AgentRuntime rt =
            AgentRuntime.builder()
                .jvmMetrics(false)
                .journal(journal())
                .register(scribe(model))
                .build()) {
      Envelope reply = rt.request(task("Say done"), LONG).get(60, TimeUnit.SECONDS);
      assertThat(reply.payload()).isInstanceOf(TaskResult.class);
      assertThat(((TaskResult) reply.payload()).text()).isEqualTo("Done.");
      assertThat(reply.delivery()).isEqualTo(DeliveryMode.RELIABLE);
      assertThat(reply.isReply()).isTrue();
      assertThat(rt.awaitDrained(LONG)).isTrue();
      assertThat(rt.pendingCount()).isZero();
    }
  }

  @Test
  void theAnswerWaitsForItsCallerAcrossARestart() throws Exception {
    try (AgentRuntime first = AgentRuntime.builder().jvmMetrics(false).journal(journal()).build()) {
      CompletableFuture<Envelope> lost =
          first.request(task("Say done").idempotencyKey("ticket-9"), Duration.ofMillis(50));
      assertThatThrownBy(() -> lost.get(60, TimeUnit.SECONDS))
          .hasCauseInstanceOf(TimeoutException.class);
    }
    try (ModelProvider model = provider(server, ProviderConfig.Kind.OPENAI);
        AgentRuntime second =
            AgentRuntime.builder()
                .jvmMetrics(false)
                .journal(journal())
                .register(scribe(model))
                .build()) {
      Envelope reply = second.awaitReply("ticket-9", LONG).get(60, TimeUnit.SECONDS);
      assertThat(((TaskResult) reply.payload()).text()).isEqualTo("Done.");
      assertThat(second.awaitDrained(LONG)).isTrue();
    }
    assertThat(server.requests()).hasSize(1);
  }

  @Test
  void aChargeTheJournalRefusedFailsTheHandlingSoTheRequestIsRetriedNotAnsweredWithAFailure()
      throws Exception {
    AtomicInteger refusals = new AtomicInteger(1);
    Budget budget =
        Budget.builder("agent scribe/1")
            .onCharge(
                (usage, model) -> {
                  if (refusals.getAndDecrement() > 0) {
                    throw new JournalException("the disk is full (test)");
                  }
                })
            .build();
    try (ModelProvider model = provider(server, ProviderConfig.Kind.OPENAI);
        AgentRuntime rt =
            AgentRuntime.builder()
                .jvmMetrics(false)
                .journal(journal())
                .register(
                    LlmAgent.builder(definition("scribe", "[]"))
                        .model(model)
                        .tools(new ToolRegistry())
                        .budget(budget)
                        .type("scribe"))
                .build()) {
      Envelope reply = rt.request(task("Say done"), LONG).get(60, TimeUnit.SECONDS);
      assertThat(reply.payload())
          .as("the storage failure is retried by the journal, not the task's outcome")
          .isInstanceOf(TaskResult.class);
      assertThat(server.received()).as("the answer was not used: asked again").isEqualTo(2);
      assertThat(budget.spent().calls()).as("both calls charged").isEqualTo(2);
      assertThat(rt.awaitDrained(LONG)).isTrue();
    }
  }
}
