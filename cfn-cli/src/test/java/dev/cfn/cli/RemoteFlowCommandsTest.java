package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.cli.StoreCommandsTest.Run;
import dev.cfn.core.AgentType;
import dev.cfn.server.CfnServer;
import dev.cfn.server.auth.Role;
import dev.cfn.server.auth.Scope;
import dev.cfn.server.auth.TokenStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cfn task} and {@code cfn swarm} with {@code --server URL} against a real node over TLS 1.3
 * with its certificate pinned: a graph submitted from a file runs on the node and is followed to
 * its end; a run that waits is cancelled and shown; a swarm is made, joined, shown and left.
 */
class RemoteFlowCommandsTest {
  @TempDir static Path home;
  static CfnServer server;
  static Path operator;
  static Path viewer;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void start() throws Exception {
    server =
        CfnServer.builder(home)
            .port(0)
            .agentType(
                AgentType.of(
                    "echo",
                    id ->
                        (m, ctx) -> {
                          if (m.isRequest()) {
                            ctx.reply(m.payload());
                          }
                        }))
            .agentType(AgentType.of("silent", id -> (m, ctx) -> {}))
            .start();
    operator = tokenFile("operator", Role.OPERATOR);
    viewer = tokenFile("viewer", Role.VIEWER);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static Path tokenFile(String name, Role role) throws Exception {
    String token;
    try (TokenStore store = TokenStore.open(home.resolve(TokenStore.DEFAULT_FILE))) {
      token =
          store.create(role, List.of(Scope.ALL), Duration.ofDays(1), "test", "user:test").secret();
    }
    Path f = home.resolve(name + ".token");
    Files.writeString(f, token + "\n");
    return f;
  }

  static Run remote(Path token, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(
        List.of(
            "--server",
            server.url(),
            "--fingerprint",
            server.fingerprint().orElseThrow(),
            "--token-file",
            token.toString()));
    return StoreCommandsTest.run(all.toArray(String[]::new));
  }

  @Test
  void aGraphSubmittedToTheNodeRunsThereAndIsFollowedToItsEnd() throws Exception {
    Path graph = home.resolve("chain.yaml");
    Files.writeString(
        graph,
        "graph: chain\ntasks:\n  - id: first\n    agent: echo\n    input: \"hi {{state.who}}\"\n"
            + "  - id: second\n    agent: echo\n    after: first\n    input: \"{{result.first}}!\"\n");
    Run r =
        remote(operator, "task", "submit", graph.toString(), "--run", "r-1", "--state", "who=x");
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    assertThat(r.out()).contains("run r-1: SUCCEEDED").contains("hi x!");

    Run s = remote(viewer, "task", "status", "r-1", "--json");
    assertThat(s.code()).as(s.err()).isZero();
    assertThat(JSON.readTree(s.out()).path("tasks").get(1).path("result").asText())
        .isEqualTo("hi x!");

    // a viewer may look but not submit: exit 3, one line
    Run denied = remote(viewer, "task", "submit", graph.toString(), "--run", "r-2");
    assertThat(denied.code()).isEqualTo(ExitCode.DENIED);
    assertThat(denied.err()).contains("refused");
    assertThat(remote(viewer, "task", "status", "nope").code()).isEqualTo(ExitCode.FAILED);
  }

  @Test
  void aWaitingRunIsCancelledThroughTheNode() throws Exception {
    Path graph = home.resolve("stuck.yaml");
    Files.writeString(
        graph, "graph: stuck\ntasks:\n  - id: wait\n    agent: silent\n    input: x\n");
    Run r = remote(operator, "task", "submit", graph.toString(), "--run", "w-1", "--timeout", "1s");
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(ExitCode.FAILED);
    assertThat(r.out()).contains("still running on the node");
    Run c = remote(operator, "task", "cancel", "w-1/wait");
    assertThat(c.code()).as(c.err()).isZero();
    assertThat(c.out()).contains("cancel of task wait of run w-1 sent");
    long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    String status = "";
    while (!status.equals("CANCELLED") && System.nanoTime() < end) {
      Run s = remote(viewer, "task", "status", "w-1", "--json");
      status = JSON.readTree(s.out()).path("status").asText();
      Thread.sleep(50);
    }
    assertThat(status).isEqualTo("CANCELLED");
    Run again = remote(operator, "task", "cancel", "w-1");
    assertThat(again.code()).isEqualTo(ExitCode.USAGE);
    assertThat(again.err()).contains("nothing to cancel");
  }

  @Test
  void aSwarmIsMadeJoinedShownAndLeftThroughTheNode() throws Exception {
    Run c =
        remote(
            operator,
            "swarm",
            "create",
            "crew",
            "--topology",
            "ring",
            "--member",
            "echo/a",
            "--member",
            "echo/b",
            "--member",
            "echo/c");
    assertThat(c.code()).as(c.err()).isZero();
    assertThat(c.out()).contains("swarm crew: ring");
    Run j = remote(operator, "swarm", "join", "crew", "echo/d");
    assertThat(j.code()).as(j.err()).isZero();
    assertThat(j.out()).contains("echo/d joined swarm crew");
    Run s = remote(viewer, "swarm", "status", "crew");
    assertThat(s.code()).as(s.err()).isZero();
    assertThat(s.out()).contains("4 member(s)").contains("echo/d");
    Run l = remote(operator, "swarm", "leave", "crew", "echo/d");
    assertThat(l.code()).as(l.err()).isZero();
    Run again = remote(operator, "swarm", "leave", "crew", "echo/d");
    assertThat(again.code()).isEqualTo(ExitCode.FAILED);
    Run all = remote(viewer, "swarm", "status");
    assertThat(all.out()).contains("crew").contains("ring");
  }
}
