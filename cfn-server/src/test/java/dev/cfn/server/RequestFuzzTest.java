package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.server.auth.Role;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * The request parsers fuzzed with jqwik against a real server (fixed seeds, bounded tries): bodies
 * of every route that takes one (random text, random JSON trees over the schemas' own member names,
 * valid bodies with a member changed), path and query parameters of every route that takes them,
 * and the headers the gate reads (not {@code /v1/events}, whose stream never ends by design). Every
 * answer must come (the client's deadline catches a hang), be below 500, and a refusal must be a
 * problem document: 0 crashes, 0 hangs, 0 5xx. The one 5xx a valid call may earn, 504 for a {@code
 * request} whose {@code timeoutMs} passed before the reply, is the documented answer to its own
 * deadline and is allowed on that route only.
 */
class RequestFuzzTest {
  static Path home;
  static TestNode node;
  static String admin;
  static final ObjectMapper JSON = new ObjectMapper();

  static final List<String> BODY_ROUTES =
      List.of(
          "POST /v1/messages/send",
          "POST /v1/messages/publish",
          "POST /v1/messages/request",
          "POST /v1/agents",
          "POST /v1/loops",
          "PUT /v1/memory/notes/k");

  static final List<String> MEMBERS =
      List.of(
          "to",
          "payload",
          "task",
          "reliable",
          "idempotencyKey",
          "timeoutMs",
          "topic",
          "source",
          "type",
          "key",
          "budget",
          "swarm",
          "value",
          "level",
          "ttlSeconds",
          "tags",
          "metadata",
          "maxCalls",
          "maxTokens",
          "maxCostUsd",
          "definition",
          "run",
          "implementers",
          "validators",
          "owner",
          "quorum",
          "gate",
          "callTimeoutMs");

  @BeforeContainer
  static void start() throws Exception {
    home = Files.createTempDirectory("cfn-request-fuzz-");
    node = TestNode.start(home, b -> b.rateLimit(1_000_000, 1_000_000));
    admin = node.token(Role.ADMIN);
  }

  @AfterContainer
  static void stop() throws Exception {
    node.close();
    try (var paths = Files.walk(home)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  static HttpResponse<String> send(String method, String path, String contentType, String body)
      throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create(node.server.url() + path))
            .timeout(Duration.ofSeconds(60))
            .header("Authorization", "Bearer " + admin);
    if (contentType != null) {
      r.header("Content-Type", contentType);
    }
    r.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return node.client.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  static void answered(String route, HttpResponse<String> r) {
    int status = r.statusCode();
    boolean deadline = route.endsWith("/request") && status == 504;
    assertThat(status < 500 || deadline)
        .as(route + " answered " + status + ": " + r.body())
        .isTrue();
    if (status >= 400) {
      assertThat(r.headers().firstValue("Content-Type"))
          .as(route + " " + status)
          .hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
      assertThat(r.body()).contains("\"status\":" + status);
    }
  }

  static void call(String route, String contentType, String body) throws Exception {
    String[] parts = route.split(" ", 2);
    answered(route, send(parts[0], parts[1], contentType, body));
  }

  @Property(tries = 150, seed = "1201")
  void anyTextAsABody(@ForAll("bodyRoutes") String route, @ForAll("text") String body)
      throws Exception {
    call(route, "application/json", body);
  }

  @Property(tries = 250, seed = "1202")
  void randomJsonOverTheSchemasMembers(
      @ForAll("bodyRoutes") String route, @ForAll("objects") JsonNode body) throws Exception {
    call(route, "application/json", JSON.writeValueAsString(body));
  }

  @Property(tries = 100, seed = "1203")
  void anyContentType(@ForAll("bodyRoutes") String route, @ForAll("text") String type)
      throws Exception {
    String clean = type.replaceAll("[\\p{Cntrl}\\P{ASCII}]", "").strip();
    call(route, clean.isEmpty() ? null : clean, "{\"to\":\"echo/1\",\"payload\":1}");
  }

  @Property(tries = 200, seed = "1204")
  void anyPathAndQueryParameter(
      @ForAll("pathRoutes") String template, @ForAll("text") String a, @ForAll("text") String b)
      throws Exception {
    String path =
        template.replace("{a}", segment(a)).replace("{b}", segment(b)).replace("{q}", query(a));
    String[] parts = path.split(" ", 2);
    answered(template, send(parts[0], parts[1], null, null));
  }

  static String segment(String s) {
    String e = URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    return e.isEmpty() ? "x" : e;
  }

  static String query(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  @Provide
  Arbitrary<String> bodyRoutes() {
    return Arbitraries.of(BODY_ROUTES);
  }

  @Provide
  Arbitrary<String> pathRoutes() {
    return Arbitraries.of(
        "GET /v1/agents/{a}/{b}",
        "DELETE /v1/agents/{a}/{b}",
        "GET /v1/dead-letters/{a}",
        "POST /v1/dead-letters/{a}/replay",
        "DELETE /v1/dead-letters/{a}",
        "GET /v1/memory/{a}/{b}",
        "DELETE /v1/memory/{a}/{b}",
        "GET /v1/memory/{a}?prefix={q}&limit={q}",
        "GET /v1/memory?q={q}&namespace={q}&limit={q}",
        "GET /v1/memory?q={q}");
  }

  @Provide
  Arbitrary<String> text() {
    return Arbitraries.oneOf(
        Arbitraries.strings().all().ofMaxLength(200),
        Arbitraries.strings().withChars("{}[]\":,0123456789-.eEtrufalsn \\/\n").ofMaxLength(120),
        Arbitraries.of("", "null", "[]", "{}", "-1", "0", "99999999999999999999", "1e999", "NaN"));
  }

  @Provide
  Arbitrary<JsonNode> objects() {
    JsonNodeFactory f = JsonNodeFactory.instance;
    Arbitrary<JsonNode> scalar =
        Arbitraries.oneOf(
            Arbitraries.strings().all().ofMaxLength(40).map(f::textNode),
            Arbitraries.of(
                    "echo/1",
                    "echo/x y",
                    "nosuch/1",
                    "echo",
                    "/",
                    "a/",
                    "t.x",
                    "private",
                    "public",
                    "*")
                .map(f::textNode),
            Arbitraries.longs().map(f::numberNode),
            Arbitraries.integers().between(-5, 5000).map(f::numberNode),
            Arbitraries.doubles().map(f::numberNode),
            Arbitraries.of(f.booleanNode(true), f.booleanNode(false), f.nullNode()));
    Arbitrary<JsonNode> nested =
        Combinators.combine(Arbitraries.of(MEMBERS), scalar)
            .as(
                (k, v) -> {
                  ObjectNode o = f.objectNode();
                  o.set(k, v);
                  return (JsonNode) o;
                });
    Arbitrary<JsonNode> value =
        Arbitraries.oneOf(
            scalar, nested, scalar.list().ofMaxSize(4).map(l -> f.arrayNode().addAll(l)));
    return Combinators.combine(Arbitraries.of(MEMBERS), value)
        .as((k, v) -> new Object[] {k, v})
        .list()
        .ofMaxSize(6)
        .map(
            pairs -> {
              ObjectNode o = f.objectNode();
              for (Object[] p : pairs) {
                o.set((String) p[0], (JsonNode) p[1]);
              }
              return (JsonNode) o;
            });
  }
}
