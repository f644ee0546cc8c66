package dev.cfn.flow.loop;

import dev.cfn.ai.CallLog;
import dev.cfn.ai.LlmAgent;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.definition.LoadResult;
import dev.cfn.ai.model.ModelProvider;
import dev.cfn.ai.model.OpenAiProvider;
import dev.cfn.ai.model.ProviderConfig;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.InMemoryJournal;
import dev.cfn.core.spi.Journal;
import dev.cfn.store.calls.SqliteCallLogStore;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * One "process" of a loop test: a runtime on the journal and call log in {@code dir}, LLM agents
 * (coder, reviewer, tester, owner) talking to a test model server, and a loop runner. Closing it
 * closes everything, so the next process can open the same files: a restart.
 */
final class LoopFixture implements AutoCloseable {
  static final List<String> AGENTS = List.of("coder", "reviewer", "tester", "owner");
  static final Duration WAIT = Duration.ofSeconds(60);

  final AgentRuntime runtime;
  final LoopRunner runner;
  final Journal journal;
  private final SqliteCallLogStore calls;
  private final ModelProvider model;

  private LoopFixture(Path dir, String openAiBaseUrl, boolean inMemoryJournal) {
    this.calls =
        SqliteCallLogStore.builder(dir.resolve("calls.db")).sweepEvery(Duration.ZERO).open();
    this.model =
        OpenAiProvider.create(
            ProviderConfig.builder("test", ProviderConfig.Kind.OPENAI)
                .baseUrl(openAiBaseUrl)
                .apiKey("test-key")
                .model("m1")
                .requestTimeout(Duration.ofSeconds(10))
                .connectTimeout(Duration.ofSeconds(5))
                .build());
    this.journal =
        inMemoryJournal
            ? new InMemoryJournal()
            : SqliteJournal.builder(dir.resolve("cfn.db"))
                .payloadType(LoopRunner.journalPayloadTypes().toArray(new Class<?>[0]))
                .open();
    AgentRuntime.Builder b = AgentRuntime.builder().jvmMetrics(false).carriers(2).journal(journal);
    for (String name : AGENTS) {
      b.register(
          LlmAgent.builder(definition(name))
              .model(model)
              .callLog(CallLog.durable(calls))
              .type(name));
    }
    this.runtime = b.build();
    this.runner = LoopRunner.builder(runtime).journal(journal).build();
  }

  /** A process on the files of {@code dir}. */
  static LoopFixture open(Path dir, ModelServer server) {
    return new LoopFixture(dir, server.openAiBaseUrl(), false);
  }

  /** A process on the files of {@code dir}, its agents asking the server at {@code baseUrl}. */
  static LoopFixture open(Path dir, String openAiBaseUrl) {
    return new LoopFixture(dir, openAiBaseUrl, false);
  }

  /** A process with an in-memory journal sharing {@code dir}'s call log: for replays. */
  static LoopFixture replayer(Path dir, ModelServer server) {
    return new LoopFixture(dir, server.openAiBaseUrl(), true);
  }

  static AgentDefinition definition(String name) {
    LoadResult r =
        DefinitionLoader.parse(
            "---\nname: "
                + name
                + "\ndescription: The loop's "
                + name
                + " in tests\n---\nYou are the "
                + name
                + ".\n",
            Path.of(name + ".md"));
    return r.definitions().getFirst();
  }

  static Match system(String agent) {
    return Match.systemContains("You are the " + agent + ".");
  }

  static Reply implemented(String result, String confidence) {
    return Reply.text("{\"result\": \"" + result + "\", \"confidence\": " + confidence + "}");
  }

  static Reply verdict(boolean approve, String confidence, String... findings) {
    StringBuilder f = new StringBuilder();
    for (String s : findings) {
      f.append(f.isEmpty() ? "" : ", ").append('"').append(s).append('"');
    }
    return Reply.text(
        "{\"verdict\": \""
            + (approve ? "approve" : "reject")
            + "\", \"confidence\": "
            + confidence
            + ", \"findings\": ["
            + f
            + "]}");
  }

  static Reply decision(String decision, String reason) {
    return Reply.text(
        "{\"decision\": \"" + decision + "\", \"reason\": \"" + reason + "\", \"followUps\": []}");
  }

  /** Implementer coder; validators reviewer and tester; owner owner. */
  static LoopSpec.Builder spec() {
    return LoopSpec.builder()
        .implementers(List.of("coder"))
        .validators(List.of("reviewer", "tester"))
        .owner("owner")
        .callTimeout(Duration.ofSeconds(30));
  }

  @Override
  public void close() throws Exception {
    try {
      runtime.close();
    } finally {
      calls.close();
      model.close();
    }
  }
}
