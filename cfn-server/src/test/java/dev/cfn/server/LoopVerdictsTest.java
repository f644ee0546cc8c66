package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.model.ModelConfig;
import dev.cfn.ai.rollout.Gates;
import dev.cfn.ai.rollout.RolloutStatus;
import dev.cfn.ai.rollout.RolloutStore;
import dev.cfn.flow.loop.LoopRecord;
import dev.cfn.flow.loop.LoopSpec;
import dev.cfn.flow.loop.LoopStatus;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A CFN Loop run on a node whose implementer is being rolled out: the validators' verdicts on the
 * implementer's work are recorded on the rollout, on the version that served the implementer's call
 * ({@link LoopVerdicts}), and move its approval figures.
 */
class LoopVerdictsTest {
  @TempDir Path home;

  @Test
  void aLoopsVerdictsMoveTheRolloutsApprovalFigures() throws Exception {
    try (ModelServer models = ModelServer.start()) {
      models
          .script()
          .on(Match.systemContains("You are the coder"))
          .reply(Reply.text("{\"result\": \"add\", \"confidence\": 0.9}"));
      models
          .script()
          .on(Match.systemContains("You are the reviewer"))
          .reply(Reply.text("{\"verdict\": \"approve\", \"confidence\": 0.95, \"findings\": []}"));
      models
          .script()
          .on(Match.systemContains("You are the tester"))
          .reply(
              Reply.text(
                  "{\"verdict\": \"reject\", \"confidence\": 0.2, \"findings\": [\"no tests\"]}"));
      models
          .script()
          .on(Match.systemContains("You are the owner"))
          .reply(Reply.text("{\"decision\": \"DEFER\", \"reason\": \"later\", \"followUps\": []}"));
      Path agents = home.resolve(".claude/agents");
      Files.createDirectories(agents);
      for (String name : List.of("coder", "reviewer", "tester", "owner")) {
        Files.writeString(agents.resolve(name + ".md"), definition(name, ""));
      }
      Files.writeString(home.resolve("coder-v2.md"), definition("coder", "version: 2\n"));
      RolloutStore store = RolloutStore.at(home.resolve(".cfn/rollouts"));
      store.start(
          DefinitionLoader.load(agents.resolve("coder.md")).definitions().getFirst(),
          DefinitionLoader.load(home.resolve("coder-v2.md")).definitions().getFirst(),
          List.of(50, 100),
          Duration.ofHours(1), // neither promoted nor rolled back while the test runs
          Gates.DEFAULTS.withMinTasks(1000),
          Instant.now(),
          "test");
      String yaml =
          "providers:\n  local:\n    kind: openai\n    base-url: "
              + models.openAiBaseUrl()
              + "\n    api-key: k\n    model: test-model\n";
      try (TestNode node =
          TestNode.start(home, b -> b.models(() -> ModelConfig.parse(yaml, "test", Map.of())))) {
        Node n = node.server.node();
        for (String name : List.of("coder", "reviewer", "tester", "owner")) {
          n.register(n.definition(name).orElseThrow());
        }
        LoopSpec spec =
            LoopSpec.builder()
                .implementers(List.of("coder"))
                .validators(List.of("reviewer", "tester"))
                .owner("owner")
                .maxImplementations(1)
                .maxValidations(1)
                .callTimeout(Duration.ofSeconds(30))
                .build();
        LoopRecord r = n.loops().start("v-1", spec, "Write add").get(90, TimeUnit.SECONDS);
        assertThat(r.status()).as(r.reason()).isNotEqualTo(LoopStatus.RUNNING);

        // the rollout's file is written at most every half second: wait for both verdicts
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        RolloutStatus s = store.status("coder").orElseThrow();
        while (verdicts(s) < 2 && System.nanoTime() < end) {
          Thread.sleep(100);
          s = store.status("coder").orElseThrow();
        }
        assertThat(s.phase()).isEqualTo(RolloutStatus.Phase.RUNNING);
        assertThat(verdicts(s)).as("%s", s.toMap()).isEqualTo(2);
        // one approval and one rejection, on the version that served the implementer's call
        RolloutStatus.Figures judged =
            s.canaryFigures().verdicts() == 2 ? s.canaryFigures() : s.baselineFigures();
        assertThat(judged.verdicts()).isEqualTo(2);
        assertThat(judged.approvalRate()).isEqualTo(0.5);
        assertThat(judged.tasks()).as("the implementer's call was served by it").isPositive();
      }
    }
  }

  private static long verdicts(RolloutStatus s) {
    return s.baselineFigures().verdicts() + s.canaryFigures().verdicts();
  }

  private static String definition(String name, String more) {
    return "---\nname: "
        + name
        + "\ndescription: the loop's "
        + name
        + "\ntools: []\nmodel: test-model\n"
        + more
        + "---\nYou are the "
        + name
        + ".\n";
  }
}
