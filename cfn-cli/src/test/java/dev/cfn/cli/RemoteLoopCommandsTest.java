package dev.cfn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cfn.ai.model.ModelConfig;
import dev.cfn.cli.StoreCommandsTest.Run;
import dev.cfn.flow.loop.LoopEvent;
import dev.cfn.flow.loop.LoopRecord;
import dev.cfn.flow.loop.LoopTimeline;
import dev.cfn.server.CfnServer;
import dev.cfn.server.auth.Role;
import dev.cfn.server.auth.Scope;
import dev.cfn.server.auth.TokenStore;
import dev.cfn.testkit.FaultProxy;
import dev.cfn.testkit.Match;
import dev.cfn.testkit.ModelServer;
import dev.cfn.testkit.NetworkFault;
import dev.cfn.testkit.Reply;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cfn loop run|status|show|decide --server URL} against a real node over TLS 1.3 with its
 * certificate pinned, whose loop agents are definitions of its {@code .claude/agents} answered by
 * the testkit's model server: a run submitted from the command line runs on the node and is
 * followed to the owner's escalation, printed as the local run prints it, and decided; a run that
 * fails exits 1; a wrong token, a viewer's token, an unknown agent, a bad URL and a node that is
 * not there are refused with one line and the exit code of their kind. A run is followed from the
 * node's live events ({@code /v1/events}): a broken stream connects again with {@code
 * Last-Event-ID} and loses no event nor sees one twice, also when it breaks before the first event
 * (it resumes from the position the node sent when it joined).
 */
class RemoteLoopCommandsTest {
  @TempDir static Path home;
  static CfnServer server;
  static ModelServer models;
  static Path operator;
  static Path viewer;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void start() throws Exception {
    models = ModelServer.start();
    models
        .script()
        .on(system("coder"))
        .reply(Reply.text("{\"result\": \"int add(int a, int b)\", \"confidence\": 0.9}"));
    models
        .script()
        .on(system("weak"))
        .reply(Reply.text("{\"result\": \"maybe\", \"confidence\": 0.1}"));
    for (String v : List.of("reviewer", "tester")) {
      models
          .script()
          .on(system(v))
          .reply(Reply.text("{\"verdict\": \"approve\", \"confidence\": 0.95, \"findings\": []}"));
    }
    models
        .script()
        .on(system("owner"))
        .reply(
            Reply.text(
                "{\"decision\": \"ESCALATE\", \"reason\": \"licence question\", \"followUps\": []}"));
    Path agents = home.resolve(".claude/agents");
    Files.createDirectories(agents);
    for (String name : List.of("coder", "weak", "reviewer", "tester", "owner")) {
      Files.writeString(
          agents.resolve(name + ".md"),
          "---\nname: "
              + name
              + "\ndescription: the loop's "
              + name
              + "\ntools: []\nmodel: test-model\n---\nYou are the "
              + name
              + ".\n");
    }
    String yaml =
        "providers:\n  local:\n    kind: openai\n    base-url: "
            + models.openAiBaseUrl()
            + "\n    api-key: k\n    model: test-model\n";
    server =
        CfnServer.builder(home)
            .port(0)
            .models(() -> ModelConfig.parse(yaml, "test", Map.of()))
            .rateLimit(10_000, 10_000)
            .start();
    operator = tokenFile("operator", Role.OPERATOR);
    viewer = tokenFile("viewer", Role.VIEWER);
  }

  @AfterAll
  static void stop() {
    server.close();
    models.close();
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

  static Match system(String agent) {
    return Match.systemContains("You are the " + agent + ".");
  }

  static Run remote(Path token, String... args) {
    return remoteAt(server.url(), token, args);
  }

  static Run remoteAt(String url, Path token, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(
        List.of(
            "--server",
            url,
            "--fingerprint",
            server.fingerprint().orElseThrow(),
            "--token-file",
            token.toString()));
    return StoreCommandsTest.run(all.toArray(String[]::new));
  }

  static final String[] LOOP = {
    "--implementer", "coder", "--validator", "reviewer", "--validator", "tester", "--owner", "owner"
  };

  static String[] loop(String... more) {
    List<String> all = new ArrayList<>(List.of("loop", "run", "Write", "add"));
    all.addAll(List.of(LOOP));
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  /** One line on standard error, no stack trace. */
  static void oneLine(Run r) {
    assertThat(r.err()).doesNotContain("\tat ", "Exception");
    assertThat(r.err().strip().lines().count()).as(r.err()).isLessThanOrEqualTo(2);
  }

  @Test
  void aLoopRunOnTheNodeIsFollowedToTheOwnersEscalationAndDecided() throws Exception {
    Run r = remote(operator, loop("--id", "r-1"));
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    // what the local run prints: the record's timeline and the hint, from the node's record
    Run shown = remote(viewer, "loop", "show", "r-1", "--json");
    assertThat(shown.code()).as(shown.err()).isZero();
    LoopRecord record = LoopRecord.fromJson(shown.out());
    assertThat(record.status().name()).isEqualTo("WAITING");
    assertThat(r.out())
        .isEqualTo(
            LoopTimeline.render(record)
                + "run r-1 waits for a person: cfn loop decide r-1 --proceed|--defer|--abort"
                + " [--note TEXT]\n");
    assertThat(r.out()).contains("int add(int a, int b)", "licence question");
    // the progress went to standard error, each answer as it was recorded
    assertThat(r.err())
        .contains("cfn loop run: run r-1 on " + server.url())
        .contains("iteration 1 implement coder: confidence 0.9")
        .contains("iteration 1 decide owner: ESCALATE")
        .contains("run r-1: waiting");

    Run status = remote(viewer, "loop", "status", "--json");
    assertThat(status.code()).as(status.err()).isZero();
    assertThat(JSON.readTree(status.out()).path("r-1").asText()).isEqualTo("WAITING");
    Run one = remote(viewer, "loop", "status", "r-1");
    assertThat(one.out()).startsWith("r-1: WAITING after 1 iterations");

    // --resume follows a run the node has, to where it stands
    Run again = remote(viewer, "loop", "run", "--resume", "r-1");
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(again.out()).isEqualTo(r.out());

    // a viewer may look but not decide: exit 3, one line
    Run denied = remote(viewer, "loop", "decide", "r-1", "--proceed");
    assertThat(denied.code()).isEqualTo(ExitCode.DENIED);
    oneLine(denied);
    Run decided = remote(operator, "loop", "decide", "r-1", "--proceed", "--note", "fine");
    assertThat(decided.code()).as(decided.err()).isZero();
    assertThat(decided.out()).contains("ACCEPTED");
    Run finished = remote(viewer, "loop", "run", "--resume", "r-1");
    assertThat(finished.code()).isEqualTo(ExitCode.USAGE);
    assertThat(finished.err()).contains("has finished (ACCEPTED)");
    oneLine(finished);
  }

  /** A client of the node with the token in {@code tokenFile}, its certificate pinned. */
  static NodeClient client(Path tokenFile) throws Exception {
    String hex = server.fingerprint().orElseThrow().replace(":", "").toLowerCase(Locale.ROOT);
    return NodeClient.pinned(
        URI.create(server.url()),
        Files.readString(tokenFile).strip(),
        HexFormat.of().parseHex(hex));
  }

  static Map<String, Object> loopBody(String run) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("run", run);
    body.put("task", "Write add");
    body.put("implementers", List.of("coder"));
    body.put("validators", List.of("reviewer", "tester"));
    body.put("owner", "owner");
    return body;
  }

  @Test
  void theStreamResumesAfterTheLastEventItHandedOnWhenItsConnectionBreaks() throws Exception {
    NodeClient node = client(operator);
    try (EventStream events = EventStream.open(node)) {
      events.drop(); // the connection breaks right after the first event
      node.call("POST", "/v1/loops", loopBody("e-1"));
      Object first = events.next(Duration.ofSeconds(60).toNanos());
      assertThat(first).isInstanceOf(EventStream.Event.class);
      long firstId = ((EventStream.Event) first).id();

      List<Long> ids = new ArrayList<>(List.of(firstId));
      boolean resynced = false;
      String end = null;
      while (end == null) {
        Object next = events.next(Duration.ofSeconds(60).toNanos());
        assertThat(next).as("an event within 60 s").isNotNull();
        if (next instanceof EventStream.Resync) {
          resynced = true;
        } else if (next instanceof EventStream.Event e) {
          ids.add(e.id());
          LoopEvent le = LoopCommand.loopEvent(e.data());
          if (le != null && le.runId().equals("e-1") && le.status().name().equals("WAITING")) {
            end = e.name();
          }
        }
      }
      // connected again with Last-Event-ID: the first event's id; nothing lost, nothing twice
      assertThat(events.resumedAfter).containsExactly(firstId);
      assertThat(resynced).as("resumed inside the node's window: no gap, no resync").isFalse();
      for (int i = 1; i < ids.size(); i++) {
        assertThat(ids.get(i)).as("event after " + ids.get(i - 1)).isEqualTo(ids.get(i - 1) + 1);
      }
      assertThat(end).isEqualTo("cfn.flow.loop.run.waiting");
    }
  }

  /**
   * The stream's connection (through a proxy) breaks before any event has arrived, and an event is
   * published while it is down: the stream resumes from the position the node sent when it joined,
   * so it hands that event on, once.
   */
  @Test
  void aBreakBeforeTheFirstEventLosesNoEventPublishedDuringIt() throws Exception {
    NodeClient direct = client(operator);
    String hex = server.fingerprint().orElseThrow().replace(":", "").toLowerCase(Locale.ROOT);
    URI url = URI.create(server.url());
    try (FaultProxy proxy = FaultProxy.start(url.getHost(), url.getPort())) {
      NodeClient proxied =
          NodeClient.pinned(
              URI.create(url.getScheme() + "://" + url.getHost() + ":" + proxy.port()),
              Files.readString(operator).strip(),
              HexFormat.of().parseHex(hex));
      try (EventStream events = EventStream.open(proxied);
          EventStream witness = EventStream.open(direct)) {
        proxy.inject(NetworkFault.reset()); // the connection breaks; new ones are refused
        long giveUp = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (events.resumedAfter.isEmpty() && System.nanoTime() < giveUp) {
          Thread.sleep(10); // until the stream has seen the break and tries to connect again
        }
        assertThat(events.resumedAfter).as("the stream saw the break").isNotEmpty();
        publish(direct, "during");
        // the event is in the node's feed (the direct stream has it) while the proxy is down
        while (!isMarker(witness.next(Duration.ofSeconds(60).toNanos()), "during")) {
          // other events of the node, if any
        }
        proxy.heal();
        publish(direct, "after");
        int during = 0;
        List<Long> ids = new ArrayList<>();
        for (; ; ) {
          Object next = events.next(Duration.ofSeconds(60).toNanos());
          assertThat(next)
              .as("an event within 60 s; resumed inside the window, so no resync")
              .isInstanceOf(EventStream.Event.class);
          ids.add(((EventStream.Event) next).id());
          if (isMarker(next, "during")) {
            during++;
          } else if (isMarker(next, "after")) {
            break;
          }
        }
        assertThat(during).as("the event published during the break, handed on once").isEqualTo(1);
        // connected again once, with Last-Event-ID: the position the node sent when it joined
        assertThat(events.resumedAfter).hasSize(1).doesNotContainNull();
        assertThat(ids.getFirst()).isEqualTo(events.resumedAfter.getFirst() + 1);
        for (int i = 1; i < ids.size(); i++) {
          assertThat(ids.get(i)).as("event after " + ids.get(i - 1)).isEqualTo(ids.get(i - 1) + 1);
        }
      }
    }
  }

  static void publish(NodeClient node, String marker) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("topic", "cfn.flow.test.marker");
    body.put("source", "test");
    body.put("payload", Map.of("marker", marker));
    node.call("POST", "/v1/messages/publish", body);
  }

  static boolean isMarker(Object event, String marker) {
    return event instanceof EventStream.Event e
        && e.name().equals("cfn.flow.test.marker")
        && e.data().contains("\"marker\":\"" + marker + "\"");
  }

  @Test
  void aRunIsFollowedFromTheNodesEventsAcrossABrokenConnection() throws Exception {
    NodeClient node = client(operator);
    StringWriter err = new StringWriter();
    Progress progress = new Progress(new PrintWriter(err), false);
    LoopRecord done;
    try (EventStream events = EventStream.open(node)) {
      events.drop();
      node.call("POST", "/v1/loops", loopBody("e-2"));
      done = LoopCommand.followRemote(node, events, "e-2", Duration.ofMinutes(2), progress);
      assertThat(events.resumedAfter).hasSize(1);
    }
    assertThat(done.status().name()).isEqualTo("WAITING");
    String shown = err.toString();
    // every answer once, in the order recorded, and the end, as plain lines
    for (String line :
        List.of(
            "iteration 1 implement coder: confidence 0.9",
            "iteration 1 validate reviewer: ",
            "iteration 1 validate tester: ",
            "iteration 1 decide owner: ESCALATE",
            "run e-2: waiting")) {
      assertThat(shown.lines().filter(l -> l.contains(line)).count()).as(line).isEqualTo(1);
    }
    assertThat(shown).doesNotContain("\r");
  }

  @Test
  void aRunThatFailsOnTheNodeExitsOne() throws Exception {
    Run r =
        remote(
            operator,
            "loop",
            "run",
            "Write",
            "add",
            "--implementer",
            "weak",
            "--validator",
            "reviewer",
            "--validator",
            "tester",
            "--owner",
            "owner",
            "--max-implementations",
            "1",
            "--id",
            "f-1",
            "--json");
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(ExitCode.FAILED);
    assertThat(JSON.readTree(r.out()).path("status").asText()).isEqualTo("FAILED");
  }

  @Test
  void badInputIsRefusedWithOneLineAndNothingStarts() throws Exception {
    // a token the node does not know: exit 3
    Path wrong = home.resolve("wrong.token");
    Files.writeString(wrong, "cfn_" + "0".repeat(64) + "\n");
    Run w = remote(wrong, loop("--id", "b-1"));
    assertThat(w.code()).as(w.err()).isEqualTo(ExitCode.DENIED);
    assertThat(w.err()).contains("refused the token");
    oneLine(w);
    // a viewer may not submit: exit 3
    Run v = remote(viewer, loop("--id", "b-2"));
    assertThat(v.code()).isEqualTo(ExitCode.DENIED);
    oneLine(v);
    // an agent the node does not have: the node's reason, exit 2
    Run u =
        remote(
            operator,
            "loop",
            "run",
            "x",
            "--implementer",
            "nobody",
            "--validator",
            "reviewer",
            "--validator",
            "tester",
            "--owner",
            "owner",
            "--id",
            "b-3");
    assertThat(u.code()).isEqualTo(ExitCode.USAGE);
    assertThat(u.err()).contains("nobody");
    oneLine(u);
    // a bad URL, an option naming local files: exit 2 before any connection
    Run url = remoteAt("ftp://x", operator, loop());
    assertThat(url.code()).isEqualTo(ExitCode.USAGE);
    assertThat(url.err()).contains("is not a server URL");
    oneLine(url);
    Run local = remote(operator, loop("--agents", home.toString()));
    assertThat(local.code()).isEqualTo(ExitCode.USAGE);
    assertThat(local.err()).contains("--agents");
    oneLine(local);
    // no node there: exit 1
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Run down = remoteAt("https://127.0.0.1:" + port, operator, loop("--id", "b-4"));
    assertThat(down.code()).isEqualTo(ExitCode.FAILED);
    assertThat(down.err()).contains("no cfn server answers");
    oneLine(down);
    Run none = remote(viewer, "loop", "run", "--resume", "nosuch");
    assertThat(none.code()).isEqualTo(ExitCode.FAILED);
    assertThat(none.err()).contains("no CFN Loop run nosuch");
    oneLine(none);
    // nothing of the refused submissions started on the node
    Run all = remote(viewer, "loop", "status", "--json");
    assertThat(JSON.readTree(all.out()).has("b-1")).isFalse();
    assertThat(JSON.readTree(all.out()).has("b-2")).isFalse();
    assertThat(JSON.readTree(all.out()).has("b-3")).isFalse();
    assertThat(JSON.readTree(all.out()).has("b-4")).isFalse();
  }
}
