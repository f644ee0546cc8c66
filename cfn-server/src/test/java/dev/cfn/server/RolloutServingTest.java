package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.ai.definition.AgentDefinition;
import dev.cfn.ai.definition.DefinitionLoader;
import dev.cfn.ai.model.ModelConfig;
import dev.cfn.ai.rollout.Gates;
import dev.cfn.ai.rollout.RolloutStatus;
import dev.cfn.ai.rollout.RolloutStore;
import dev.cfn.server.audit.AuditEvent;
import dev.cfn.server.auth.Role;
import dev.cfn.store.backup.BackupSet;
import dev.cfn.store.backup.StoreBackup;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.Reply;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node serving an agent under a canary rollout, through the API, with the loopback model server
 * playing a new version that fails; and a node taking scheduled backup sets.
 */
class RolloutServingTest {
  @TempDir Path home;

  private static AgentDefinition load(Path file) {
    return DefinitionLoader.load(file).definitions().getFirst();
  }

  /**
   * Writes version 1 of agent {@code reviewer} in {@code .claude/agents} and version 2 (whose
   * prompt says "second edition") in {@code reviewer-v2.md} of the home folder.
   *
   * @return the agents folder
   */
  private Path writeVersions() throws java.io.IOException {
    Path agents = home.resolve(".claude/agents");
    Files.createDirectories(agents);
    Files.writeString(
        agents.resolve("reviewer.md"),
        "---\nname: reviewer\ndescription: Reviews\ntools: []\nmodel: test-model\n---\nYou review.\n");
    Files.writeString(
        home.resolve("reviewer-v2.md"),
        "---\nname: reviewer\ndescription: Reviews\ntools: []\nmodel: test-model\nversion: 2\n---\n"
            + "You review, second edition.\n");
    return agents;
  }

  /** A node on the home folder whose models are those of {@code models}. */
  private TestNode serve(ModelServer models) throws Exception {
    String yaml =
        "providers:\n  local:\n    kind: openai\n    base-url: "
            + models.openAiBaseUrl()
            + "\n    api-key: k\n    model: test-model\n";
    return TestNode.start(
        home,
        // polled as fast as answers come: these tests are not about the rate limit
        b -> b.models(() -> ModelConfig.parse(yaml, "test", Map.of())).rateLimit(10_000, 10_000));
  }

  @Test
  void aFailingNewVersionServedThroughTheApiIsRolledBackAndAudited() throws Exception {
    try (ModelServer models = ModelServer.start()) {
      models
          .script()
          .on(Match.systemContains("second edition"))
          .reply(Reply.status(400, "the new prompt breaks it"));
      models.script().on(Match.any()).reply(Reply.text("LGTM").withUsage(50, 10, 0));
      Path agents = writeVersions();
      RolloutStore store = RolloutStore.at(home.resolve(".cfn/rollouts"));
      store.start(
          load(agents.resolve("reviewer.md")),
          load(home.resolve("reviewer-v2.md")),
          List.of(50, 100),
          Duration.ZERO,
          Gates.DEFAULTS.withMinTasks(5),
          Instant.now(),
          "test");
      try (TestNode node = serve(models)) {
        String token = node.token(Role.OPERATOR);
        HttpResponse<String> spawned =
            node.call("POST", "/v1/agents", token, "{\"type\":\"reviewer\",\"key\":\"k0\"}");
        assertThat(spawned.statusCode()).as(spawned.body()).isBetween(200, 299);
        for (int i = 1;
            i <= 300
                && store.status("reviewer").orElseThrow().phase() == RolloutStatus.Phase.RUNNING;
            i++) {
          HttpResponse<String> r =
              node.call(
                  "POST",
                  "/v1/messages/request",
                  token,
                  "{\"to\":\"reviewer/k" + i + "\",\"task\":\"Review this\",\"timeoutMs\":20000}");
          assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        }
        RolloutStatus s = store.status("reviewer").orElseThrow();
        assertThat(s.phase()).isEqualTo(RolloutStatus.Phase.ROLLED_BACK);
        assertThat(s.reason()).startsWith("error rate 100.0 %");
        // the rollout writes its decision to its file, then tells its listener (the audit trail)
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (node.audit.events().stream().noneMatch(e -> e.action().equals("rollout.rolled-back"))
            && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
        assertThat(node.audit.events())
            .anySatisfy(
                e -> {
                  assertThat(e.action()).isEqualTo("rollout.rolled-back");
                  assertThat(e.target()).isEqualTo("agent:reviewer");
                  assertThat(e.kind()).isEqualTo(AuditEvent.Kind.PRIVILEGED_ACTION);
                });
      }
    }
  }

  @Test
  void aRolloutStartedWhileTheNodeServesTakesEffectAtOnceAndIsDrivenThroughTheApi()
      throws Exception {
    try (ModelServer models = ModelServer.start()) {
      models.script().on(Match.systemContains("second edition")).reply(Reply.text("NEW VERSION"));
      models.script().on(Match.any()).reply(Reply.text("OLD VERSION").withUsage(50, 10, 0));
      Path agents = writeVersions();
      try (TestNode node = serve(models)) {
        String token = node.token(Role.OPERATOR);
        HttpResponse<String> spawned =
            node.call("POST", "/v1/agents", token, "{\"type\":\"reviewer\",\"key\":\"k1\"}");
        assertThat(spawned.statusCode()).as(spawned.body()).isBetween(200, 299);
        String task = "{\"to\":\"reviewer/k1\",\"task\":\"Review this\",\"timeoutMs\":20000}";
        HttpResponse<String> before = node.call("POST", "/v1/messages/request", token, task);
        assertThat(before.statusCode()).as(before.body()).isEqualTo(200);
        assertThat(before.body()).contains("OLD VERSION");

        // started by the command's store while the node runs, the agent's type registered already
        RolloutStore store = RolloutStore.at(home.resolve(".cfn/rollouts"));
        store.start(
            load(agents.resolve("reviewer.md")),
            load(home.resolve("reviewer-v2.md")),
            List.of(100),
            Duration.ofHours(1),
            Gates.DEFAULTS,
            Instant.now(),
            "test");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String answer = "";
        while (!answer.contains("NEW VERSION")) {
          assertThat(System.nanoTime()).as("the canary serves within 30 s").isLessThan(deadline);
          HttpResponse<String> r = node.call("POST", "/v1/messages/request", token, task);
          assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
          answer = r.body();
          Thread.sleep(10);
        }

        // the API lists it and rolls it back; the same key is served by the version in use again
        HttpResponse<String> list = node.get("/v1/rollouts", token);
        assertThat(list.statusCode()).isEqualTo(200);
        assertThat(list.body())
            .contains("\"agent\":\"reviewer\"")
            .contains("\"phase\":\"running\"");
        node.audit.clear();
        HttpResponse<String> back =
            node.call(
                "POST", "/v1/rollouts/reviewer/rollback", token, "{\"reason\":\"reads worse\"}");
        assertThat(back.statusCode()).as(back.body()).isEqualTo(200);
        assertThat(back.body()).contains("\"phase\":\"rolled-back\"").contains("reads worse");
        assertThat(node.audit.of(AuditEvent.Kind.PRIVILEGED_ACTION))
            .anySatisfy(e -> assertThat(e.target()).isEqualTo("agent:reviewer"));
        deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!answer.contains("OLD VERSION")) {
          assertThat(System.nanoTime()).as("the baseline serves within 30 s").isLessThan(deadline);
          answer = node.call("POST", "/v1/messages/request", token, task).body();
          Thread.sleep(10);
        }
        assertThat(store.status("reviewer").orElseThrow().phase())
            .isEqualTo(RolloutStatus.Phase.ROLLED_BACK);

        // refusals: finished already (409), none (404), a bad name (400), no reason (422)
        assertThat(node.call("POST", "/v1/rollouts/reviewer/promote", token, null).statusCode())
            .isEqualTo(409);
        HttpResponse<String> none = node.call("POST", "/v1/rollouts/nobody/promote", token, null);
        assertThat(none.statusCode()).isEqualTo(404);
        assertThat(none.body()).contains("cfn rollout start nobody");
        assertThat(node.call("POST", "/v1/rollouts/Bad_Name/promote", token, null).statusCode())
            .isEqualTo(400);
        assertThat(node.call("POST", "/v1/rollouts/reviewer/rollback", token, "{}").statusCode())
            .isEqualTo(422);
      }
    }
  }

  @Test
  void aNodeTakesScheduledBackupSetsOfItsStores() throws Exception {
    Path sets = home.resolve("backups");
    try (TestNode node = TestNode.start(home, b -> b.backups(sets, Duration.ofSeconds(1), 2))) {
      String token = node.token(Role.AGENT);
      assertThat(node.call("PUT", "/v1/memory/notes/k", token, "{\"value\":\"v\"}").statusCode())
          .isBetween(200, 299);
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (StoreBackup.sets(sets).size() < 2) {
        assertThat(System.nanoTime()).as("two sets within a minute").isLessThan(deadline);
        Thread.sleep(20);
      }
      Path oldest = StoreBackup.sets(sets).stream().min(Path::compareTo).orElseThrow();
      while (StoreBackup.sets(sets).contains(oldest)) {
        assertThat(System.nanoTime()).as("rotation within a minute").isLessThan(deadline);
        Thread.sleep(20);
      }
    }
    BackupSet latest = StoreBackup.verify(StoreBackup.latest(sets).orElseThrow());
    assertThat(latest.parts()).extracting(BackupSet.Part::role).contains("journal", "memory");
  }
}
