package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.LlmAgent;
import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.model.ModelProvider;
import dev.cfn.ai.model.OpenAiProvider;
import dev.cfn.ai.model.ProviderConfig;
import dev.cfn.core.AgentRuntime;
import dev.cfn.flow.loop.LoopRecord;
import dev.cfn.flow.loop.LoopRunner;
import dev.cfn.flow.loop.LoopSpec;
import dev.cfn.flow.loop.LoopStatus;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A CFN Loop run the product owner escalated, left WAITING in a node's journal by a loop "process"
 * that ran before the node started: LLM agents (coder, reviewer, tester, owner) answered by a test
 * model server.
 */
final class EscalatedLoop {
  private EscalatedLoop() {}

  /** Runs loop {@code runId} on {@code home/.cfn/cfn.db} until the owner escalates it. */
  static void run(Path home, String runId) throws Exception {
    Path cfn = home.resolve(".cfn");
    Files.createDirectories(cfn);
    try (ModelServer models = ModelServer.start()) {
      models
          .script()
          .on(system("coder"))
          .reply(Reply.text("{\"result\": \"add\", \"confidence\": 0.9}"));
      for (String v : List.of("reviewer", "tester")) {
        models
            .script()
            .on(system(v))
            .reply(
                Reply.text("{\"verdict\": \"approve\", \"confidence\": 0.95, \"findings\": []}"));
      }
      models
          .script()
          .on(system("owner"))
          .reply(
              Reply.text(
                  "{\"decision\": \"ESCALATE\", \"reason\": \"licence question\","
                      + " \"followUps\": []}"));
      try (ModelProvider model =
              OpenAiProvider.create(
                  ProviderConfig.builder("test", ProviderConfig.Kind.OPENAI)
                      .baseUrl(models.openAiBaseUrl())
                      .apiKey("test-key")
                      .model("m1")
                      .build());
          SqliteJournal journal =
              SqliteJournal.builder(cfn.resolve("cfn.db"))
                  .payloadType(LoopRunner.journalPayloadTypes().toArray(new Class<?>[0]))
                  .open()) {
        AgentRuntime.Builder b = AgentRuntime.builder().jvmMetrics(false).journal(journal);
        for (String name : List.of("coder", "reviewer", "tester", "owner")) {
          b.register(LlmAgent.builder(definition(name)).model(model).type(name));
        }
        try (AgentRuntime rt = b.build()) {
          LoopSpec spec =
              LoopSpec.builder()
                  .implementers(List.of("coder"))
                  .validators(List.of("reviewer", "tester"))
                  .owner("owner")
                  .callTimeout(Duration.ofSeconds(30))
                  .build();
          LoopRecord r =
              LoopRunner.builder(rt)
                  .journal(journal)
                  .build()
                  .start(runId, spec, "Write add")
                  .get(60, TimeUnit.SECONDS);
          assertThat(r.status()).isEqualTo(LoopStatus.WAITING);
        }
      }
    }
  }

  private static Match system(String agent) {
    return Match.systemContains("You are the " + agent + ".");
  }

  private static AgentDefinition definition(String name) {
    return DefinitionLoader.parse(
            "---\nname: "
                + name
                + "\ndescription: the loop's "
                + name
                + "\n---\nYou are the "
                + name
                + ".\n",
            Path.of(name + ".md"))
        .definitions()
        .getFirst();
  }
}
