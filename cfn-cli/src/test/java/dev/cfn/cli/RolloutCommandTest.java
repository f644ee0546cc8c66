package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cfn rollout start|status|promote|rollback} on a project folder, with the audit log. */
class RolloutCommandTest {
  @TempDir Path home;
  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void startStatusPromoteAndRollbackAreKeptAndAudited() throws Exception {
    Files.createDirectories(home.resolve(".claude/agents"));
    Files.writeString(
        home.resolve(".claude/agents/reviewer.md"),
        "---\nname: reviewer\ndescription: Reviews\ntools: []\n---\nYou review.\n");
    Files.writeString(
        home.resolve("reviewer-v2.md"),
        "---\nname: reviewer\ndescription: Reviews\ntools: []\nversion: 2\n---\nYou review better.\n");
    String h = home.toString();

    CliRun start =
        CliRun.run(
            "rollout",
            "start",
            "reviewer",
            "--to",
            home.resolve("reviewer-v2.md").toString(),
            "--steps",
            "10,50,100",
            "--hold",
            "5m",
            "--home",
            h,
            "--json");
    assertThat(start.code()).as(start.err()).isZero();
    JsonNode s = JSON.readTree(start.out());
    assertThat(s.get("phase").asText()).isEqualTo("running");
    assertThat(s.get("share").asInt()).isEqualTo(10);
    assertThat(s.get("canary").get("version").asText()).isEqualTo("2");
    assertThat(s.get("hold").asText()).isEqualTo("PT5M");

    CliRun again =
        CliRun.run(
            "rollout",
            "start",
            "reviewer",
            "--to",
            home.resolve("reviewer-v2.md").toString(),
            "--home",
            h);
    assertThat(again.code()).isEqualTo(2);
    assertThat(again.err()).contains("is running already");

    CliRun promote = CliRun.run("rollout", "promote", "reviewer", "--home", h);
    assertThat(promote.code()).as(promote.err()).isZero();
    assertThat(promote.out()).contains("running, canary 2 (").contains("at 50 %");

    CliRun back =
        CliRun.run("rollout", "abort", "reviewer", "--reason", "answers read worse", "--home", h);
    assertThat(back.code()).as(back.err()).isZero();
    assertThat(back.out()).contains("rolled back").contains("reason: answers read worse");

    CliRun status = CliRun.run("rollout", "status", "--home", h, "--json");
    JsonNode all = JSON.readTree(status.out());
    assertThat(all).hasSize(1);
    assertThat(all.get(0).get("events"))
        .extracting(e -> e.get("kind").asText())
        .containsExactly("started", "promoted", "rolled-back");
    assertThat(Files.readString(home.resolve(".claude/agents/reviewer.md")))
        .contains("You review.");

    CliRun tail = CliRun.run("audit", "tail", "--home", h, "--json");
    assertThat(
            tail.out()
                .lines()
                .map(
                    l -> {
                      try {
                        return JSON.readTree(l).get("action").asText();
                      } catch (Exception e) {
                        throw new IllegalStateException(e);
                      }
                    })
                .toList())
        .containsExactly("rollout.start", "rollout.promote", "rollout.rollback");
  }
}
