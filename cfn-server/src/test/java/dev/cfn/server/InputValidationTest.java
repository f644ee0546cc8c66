package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.server.auth.Role;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile and careless bodies: too large (413), not JSON (400), JSON of the wrong shape (422),
 * wrong media type (415), duplicate keys and trailing data (400); each is an RFC 9457 problem that
 * says what to fix, and nothing is written. Also the per-token rate limit (429 + Retry-After, one
 * token cannot starve another) and the API document matching the router.
 */
class InputValidationTest {
  @TempDir static Path home;
  static TestNode node;
  static String admin;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(home, b -> b.maxBodyBytes(4096));
    admin = node.token(Role.ADMIN);
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  static void assertProblem(HttpResponse<String> r, int status, String detail) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("Content-Type").orElse(""))
        .startsWith("application/problem+json");
    JsonNode p = Gate.JSON.readTree(r.body());
    assertThat(p.path("status").asInt()).isEqualTo(status);
    assertThat(p.path("title").asText()).isNotBlank();
    assertThat(p.path("detail").asText()).contains(detail);
  }

  @Test
  void badBodiesAreRefusedWithAProblemAndNothingIsWritten() throws Exception {
    String big = "{\"value\":\"" + "x".repeat(5000) + "\"}";
    assertProblem(node.call("PUT", "/v1/memory/ns/k", admin, big), 413, "larger than 4096");
    assertProblem(node.call("PUT", "/v1/memory/ns/k", admin, "{\"value\":"), 400, "not valid JSON");
    assertProblem(
        node.call("PUT", "/v1/memory/ns/k", admin, "{\"value\":\"a\",\"value\":\"b\"}"),
        400,
        "Duplicate");
    assertProblem(
        node.call("PUT", "/v1/memory/ns/k", admin, "{\"value\":\"a\"} {}"), 400, "not valid JSON");
    assertProblem(node.call("PUT", "/v1/memory/ns/k", admin, "{\"value\":3}"), 422, "value");
    assertProblem(
        node.call("PUT", "/v1/memory/ns/k", admin, "{\"value\":\"v\",\"extra\":1}"), 422, "extra");
    assertProblem(
        node.call("PUT", "/v1/memory/ns/k", admin, "{\"value\":\"v\",\"level\":\"secret\"}"),
        422,
        "level");
    assertProblem(node.call("PUT", "/v1/memory/ns/k", admin, "[]"), 422, "(root)");
    assertProblem(node.call("PUT", "/v1/memory/ns/k", admin, "\u0000"), 400, "JSON");
    assertProblem(
        node.call("POST", "/v1/messages/send", admin, "{\"to\":\"echo\",\"payload\":1}"),
        422,
        "to");
    assertProblem(
        node.call(
            "POST",
            "/v1/messages/send",
            admin,
            "{\"to\":\"echo/1\",\"payload\":1,\"task\":\"both\"}"),
        422,
        "only one");
    assertProblem(
        node.call("POST", "/v1/agents", admin, "{\"type\":\"../../etc\",\"key\":\"1\"}"),
        422,
        "type");
    var wrongType =
        node.client.send(
            java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(node.server.url() + "/v1/memory/ns/k"))
                .header("Authorization", "Bearer " + admin)
                .header("Content-Type", "text/plain")
                .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{\"value\":\"v\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertProblem(wrongType, 415, "application/json");
    assertProblem(node.get("/v1/memory/ns/k", admin), 404, "no memory entry");
    assertProblem(node.get("/v1/dead-letters/abc", admin), 400, "not a dead-letter id");
    assertProblem(node.get("/v1/no-such-route", admin), 404, "no such route");
  }

  @Test
  void eachTokenHasItsOwnRateLimit() throws Exception {
    try (TestNode limited = TestNode.start(home.resolve("limited"), b -> b.rateLimit(0.5, 3))) {
      String greedy = limited.token(Role.VIEWER);
      String other = limited.token(Role.VIEWER);
      for (int i = 0; i < 3; i++) {
        assertThat(limited.get("/v1/agents", greedy).statusCode()).isEqualTo(200);
      }
      HttpResponse<String> refused = limited.get("/v1/agents", greedy);
      assertProblem(refused, 429, "rate limit");
      assertThat(refused.headers().firstValue("Retry-After"))
          .hasValueSatisfying(s -> assertThat(Integer.parseInt(s)).isBetween(1, 2));
      assertThat(limited.get("/v1/agents", other).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void theApiDocumentListsExactlyTheRoutesOfTheRouter() throws Exception {
    HttpResponse<String> r = node.get("/openapi.json", admin);
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode doc = Gate.JSON.readTree(r.body());
    assertThat(doc.path("openapi").asText()).isEqualTo("3.1.0");
    TreeSet<String> documented = new TreeSet<>();
    for (Iterator<Map.Entry<String, JsonNode>> paths = doc.path("paths").fields();
        paths.hasNext(); ) {
      Map.Entry<String, JsonNode> p = paths.next();
      for (Iterator<String> methods = p.getValue().fieldNames(); methods.hasNext(); ) {
        documented.add(methods.next().toUpperCase(java.util.Locale.ROOT) + " " + p.getKey());
      }
    }
    assertThat(documented).isEqualTo(new TreeSet<>(node.server.routerRoutes()));
    assertThat(
            doc.at(
                    "/paths/~1v1~1agents/post/requestBody/content/application~1json/schema"
                        + "/required")
                .toString())
        .contains("type", "key");
  }
}
