package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.server.audit.AuditEvent;
import dev.cfn.server.auth.Role;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The routes do what they say, on the live runtime and stores, and privileged ones are audited. */
class ApiRoutesTest {
  @TempDir static Path home;
  static TestNode node;
  static String admin;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(home);
    admin = node.token(Role.ADMIN);
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  static JsonNode json(HttpResponse<String> r, int status) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    return Gate.JSON.readTree(r.body());
  }

  @Test
  void healthAnswersWithoutAToken() throws Exception {
    assertThat(json(node.get("/health/live", null), 200).path("status").asText()).isEqualTo("up");
    assertThat(json(node.get("/health/ready", null), 200).path("status").asText())
        .isEqualTo("ready");
  }

  @Test
  void requestsGetTheirReplyOrTimeOut() throws Exception {
    JsonNode reply =
        json(
            node.call(
                "POST",
                "/v1/messages/request",
                admin,
                "{\"to\":\"echo/1\",\"payload\":{\"a\":[1,2]},\"timeoutMs\":10000}"),
            200);
    assertThat(reply.path("payload").toString()).isEqualTo("{\"a\":[1,2]}");
    assertThat(reply.path("from").asText()).isEqualTo("echo/1");
    HttpResponse<String> late =
        node.call(
            "POST",
            "/v1/messages/request",
            admin,
            "{\"to\":\"silent/1\",\"payload\":1,\"timeoutMs\":200}");
    assertThat(late.statusCode()).isEqualTo(504);
    assertThat(late.body()).contains("timeoutMs");
  }

  @Test
  void agentsAreSpawnedWithABudgetShownAndStopped() throws Exception {
    node.audit.clear();
    JsonNode spawned =
        json(
            node.call(
                "POST",
                "/v1/agents",
                admin,
                "{\"type\":\"echo\",\"key\":\"s1\",\"budget\":{\"maxCalls\":5}}"),
            201);
    assertThat(spawned.path("alive").asBoolean()).isTrue();
    assertThat(spawned.has("mailboxDepth")).isTrue();
    json(node.call("POST", "/v1/agents", admin, "{\"type\":\"echo\",\"key\":\"s1\"}"), 409);
    json(node.call("POST", "/v1/agents", admin, "{\"type\":\"nosuch\",\"key\":\"1\"}"), 404);
    assertThat(json(node.get("/v1/agents/echo/s1", admin), 200).path("alive").asBoolean()).isTrue();
    assertThat(json(node.get("/v1/agents", admin), 200).path("agents").toString())
        .contains("echo/s1");
    assertThat(json(node.get("/v1/budgets", admin), 200).path("budgets").toString())
        .contains("echo/s1", "\"maxCalls\":5");
    json(node.call("DELETE", "/v1/agents/echo/s1", admin, null), 200);
    json(node.call("DELETE", "/v1/agents/echo/s1", admin, null), 404);
    assertThat(node.audit.of(AuditEvent.Kind.PRIVILEGED_ACTION))
        .extracting(e -> e.action() + " " + e.target() + " " + e.outcome())
        .containsExactly(
            "POST /v1/agents echo/s1 SUCCESS",
            "POST /v1/agents echo/s1 FAILED",
            "POST /v1/agents nosuch/1 FAILED",
            "DELETE /v1/agents/{type}/{key} echo/s1 SUCCESS",
            "DELETE /v1/agents/{type}/{key} echo/s1 FAILED");
  }

  @Test
  void agentDefinitionsAreValidatedWithoutWritingAnything() throws Exception {
    node.audit.clear();
    String viewer = node.token(Role.VIEWER);
    java.util.List<String> before = files(home);

    JsonNode valid =
        json(
            node.call(
                "POST",
                "/v1/agents/validate",
                viewer,
                body(
                    "---\nname: helper\ndescription: Helps\nmodel: gpt-4o-mini\n---\nYou help.\n")),
            200);
    assertThat(valid.path("valid").asBoolean()).isTrue();
    assertThat(valid.path("agents").toString()).isEqualTo("[\"helper\"]");
    assertThat(valid.path("problems").isArray()).isTrue();

    HttpResponse<String> bad =
        node.call(
            "POST",
            "/v1/agents/validate",
            viewer,
            body("---\nname: Not A Name!\ndescription: Helps\n---\nYou help.\n"));
    assertThat(bad.statusCode()).as(bad.body()).isEqualTo(422);
    assertThat(bad.headers().firstValue("Content-Type").orElse("")).startsWith(Problem.MEDIA_TYPE);
    JsonNode problem = Gate.JSON.readTree(bad.body());
    assertThat(problem.path("title").asText()).isEqualTo("Invalid agent definition");
    assertThat(problem.path("valid").asBoolean(true)).isFalse();
    JsonNode first = problem.path("problems").get(0);
    assertThat(first.path("line").asInt()).isEqualTo(2);
    assertThat(first.path("severity").asText()).isEqualTo("error");
    assertThat(first.path("message").asText()).contains("name");
    assertThat(first.path("fix").asText()).isNotBlank();
    assertThat(problem.path("detail").asText()).contains("definition.md:2");

    // the body's own schema: a definition is required and not empty
    HttpResponse<String> empty = node.call("POST", "/v1/agents/validate", viewer, body(""));
    assertThat(empty.statusCode()).isEqualTo(422);
    assertThat(empty.body()).contains("Invalid body");

    // read-only: nothing written, nothing registered, no privileged action recorded
    assertThat(files(home)).isEqualTo(before);
    assertThat(node.audit.of(AuditEvent.Kind.PRIVILEGED_ACTION)).isEmpty();
    assertThat(json(node.get("/v1/agents", viewer), 200).path("definitions").toString())
        .doesNotContain("helper");
  }

  /** {@code {"definition": text}}. */
  static String body(String definition) throws Exception {
    return Gate.JSON.writeValueAsString(java.util.Map.of("definition", definition));
  }

  static java.util.List<String> files(Path dir) throws Exception {
    try (java.util.stream.Stream<Path> s = java.nio.file.Files.walk(dir)) {
      return s.filter(p -> p.toString().contains(".claude") || p.toString().endsWith(".md"))
          .map(Path::toString)
          .sorted()
          .toList();
    }
  }

  @Test
  void deadLettersAreListedShownReplayedOnTheLiveRuntimeAndPurged() throws Exception {
    JsonNode sent =
        json(
            node.call(
                "POST",
                "/v1/messages/send",
                admin,
                "{\"to\":\"failing/1\",\"payload\":{\"n\":7},\"reliable\":true}"),
            202);
    long id = sent.path("id").asLong();
    awaitDeadLetter(id, 1);
    JsonNode shown = json(node.get("/v1/dead-letters/" + id, admin), 200);
    assertThat(shown.path("payload").toString()).contains("\"n\":7");
    assertThat(shown.path("cause").asText()).contains("fails on purpose");
    json(node.call("POST", "/v1/dead-letters/" + id + "/replay", admin, null), 202);
    awaitDeadLetter(id, 1); // delivered again on the live runtime, failed again
    json(node.call("POST", "/v1/dead-letters/999999/replay", admin, null), 404);
    json(node.call("DELETE", "/v1/dead-letters/" + id, admin, null), 200);
    json(node.get("/v1/dead-letters/" + id, admin), 404);
    json(node.call("DELETE", "/v1/dead-letters", admin, null), 200);
    assertThat(json(node.get("/v1/dead-letters", admin), 200).path("deadLetters").size()).isZero();
  }

  private static void awaitDeadLetter(long id, int attempts) throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < end) {
      JsonNode list = json(node.get("/v1/dead-letters", admin), 200).path("deadLetters");
      for (JsonNode d : list) {
        if (d.path("id").asLong() == id && d.path("attempts").asInt() >= attempts) {
          return;
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("message " + id + " was not dead-lettered within 30 s");
  }

  @Test
  void memoryIsWrittenReadAndSearched() throws Exception {
    String agent = node.token(Role.AGENT, "memory:notes");
    JsonNode put =
        json(
            node.call(
                "PUT",
                "/v1/memory/notes/deploy",
                agent,
                "{\"value\":\"deploy on fridays never\",\"level\":\"public\",\"tags\":[\"ops\"]}"),
            200);
    assertThat(put.path("level").asText()).isEqualTo("public");
    assertThat(json(node.get("/v1/memory/notes/deploy", agent), 200).path("value").asText())
        .isEqualTo("deploy on fridays never");
    JsonNode found = json(node.get("/v1/memory?q=fridays&namespace=notes", agent), 200);
    assertThat(found.path("matches").toString()).contains("deploy");
    json(node.get("/v1/memory?q=fridays&namespace=notes&limit=0", agent), 400);
  }

  @Test
  void liveEventsStreamAndResumeAfterLastEventId() throws Exception {
    String viewer = node.token(Role.VIEWER);
    HttpResponse<java.util.stream.Stream<String>> live = node.stream("/v1/events", viewer, null);
    assertThat(live.statusCode()).isEqualTo(200);
    assertThat(live.headers().firstValue("Content-Type").orElse(""))
        .startsWith("text/event-stream");
    String startedId;
    try (java.util.stream.Stream<String> lines = live.body()) {
      java.util.Iterator<String> it = lines.iterator();
      json(node.call("POST", "/v1/agents", admin, "{\"type\":\"echo\",\"key\":\"ev\"}"), 201);
      String id = null;
      while (true) {
        String line = it.next();
        if (line.startsWith("id: ")) {
          id = line.substring(4);
        } else if (line.equals("event: cfn.agent.started")) {
          assertThat(it.next()).startsWith("data: ").contains("echo/ev");
          break;
        }
      }
      startedId = id;
    }
    json(node.call("DELETE", "/v1/agents/echo/ev", admin, null), 200);
    HttpResponse<java.util.stream.Stream<String>> resumed =
        node.stream("/v1/events", viewer, startedId);
    try (java.util.stream.Stream<String> lines = resumed.body()) {
      java.util.Iterator<String> it = lines.iterator();
      // the stream opens with its position: the id resumed after, without data (no event)
      assertThat(it.next()).isEqualTo(": cfn events");
      assertThat(it.next()).isEqualTo("id: " + startedId);
      assertThat(it.next()).isEmpty();
      String first = null;
      while (first == null) {
        String line = it.next();
        assertThat(line).as("inside the window: no gap signal").isNotEqualTo("event: gap");
        if (line.startsWith("id: ")) {
          first = line.substring(4);
        }
      }
      assertThat(Long.parseLong(first)).isEqualTo(Long.parseLong(startedId) + 1);
      String line = it.next();
      assertThat(line).as("an event, not a gap").startsWith("event: ").isNotEqualTo("event: gap");
      String stopped = null;
      while (stopped == null) {
        if (line.equals("event: cfn.agent.stopped")) {
          stopped = it.next();
        } else {
          line = it.next();
        }
      }
      assertThat(stopped).contains("echo/ev");
    }
  }

  /**
   * A {@code Last-Event-ID} older than the node's window (here one of an earlier run of the node,
   * below its first id) or newer than any it issued is answered with the gap signal, then the
   * events still held.
   */
  @Test
  void resumingFromOutsideTheWindowSignalsTheGap() throws Exception {
    String viewer = node.token(Role.VIEWER);
    String position;
    HttpResponse<java.util.stream.Stream<String>> live = node.stream("/v1/events", viewer, null);
    try (java.util.stream.Stream<String> lines = live.body()) {
      java.util.Iterator<String> it = lines.iterator();
      assertThat(it.next()).isEqualTo(": cfn events");
      position = it.next().substring(4);
    }
    long newest = Long.parseLong(position);
    for (String stale : List.of("1", Long.toString(newest + 1_000_000))) {
      HttpResponse<java.util.stream.Stream<String>> resumed =
          node.stream("/v1/events", viewer, stale);
      try (java.util.stream.Stream<String> lines = resumed.body()) {
        java.util.Iterator<String> it = lines.iterator();
        assertThat(it.next()).isEqualTo(": cfn events");
        long at = Long.parseLong(it.next().substring(4));
        assertThat(it.next()).isEmpty();
        // the gap: its id is the stream's position, its data what was asked for and what is held
        assertThat(it.next()).isEqualTo("id: " + at);
        assertThat(it.next()).isEqualTo("event: gap");
        JsonNode gap = Gate.JSON.readTree(it.next().substring("data: ".length()));
        assertThat(gap.path("lastEventId").asLong()).isEqualTo(Long.parseLong(stale));
        assertThat(gap.path("firstAvailableId").asLong()).isEqualTo(at + 1);
        assertThat(at).as("resumes within what the node holds").isLessThanOrEqualTo(newest + 100);
        assertThat(it.next()).isEmpty();
      }
    }
  }

  @Test
  void publicationsReachTheirSubscribers() throws Exception {
    node.server.runtime().subscribe("api.test.*", "echo");
    JsonNode published =
        json(
            node.call(
                "POST",
                "/v1/messages/publish",
                admin,
                "{\"topic\":\"api.test.done\",\"source\":\"x\",\"payload\":[1]}"),
            202);
    assertThat(published.path("topic").asText()).isEqualTo("api.test.done@x");
  }
}
