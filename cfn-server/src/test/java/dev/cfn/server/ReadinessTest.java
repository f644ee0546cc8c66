package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /health/ready} answers 200 only while the node's stores answer: a store closed under a
 * running node makes it 503 (with {@code Retry-After} and a problem saying which store), while
 * {@code /health/live} stays 200. (Recovery runs before the port opens, and readiness is withdrawn
 * first when the node stops.)
 */
class ReadinessTest {
  @TempDir Path home;

  @Test
  void readyOnlyWhileTheStoresAnswer() throws Exception {
    try (TestNode node = TestNode.start(home)) {
      assertThat(node.get("/health/ready", null).statusCode()).isEqualTo(200);
      node.server.node().memory.close();
      HttpResponse<String> r = node.get("/health/ready", null);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
      assertThat(r.headers().firstValue("Content-Type"))
          .hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
      assertThat(r.headers().firstValue("Retry-After")).contains("1");
      JsonNode problem = Gate.JSON.readTree(r.body());
      assertThat(problem.path("status").asInt()).isEqualTo(503);
      assertThat(problem.path("detail").asText()).startsWith("a store does not answer");
      assertThat(node.get("/health/live", null).statusCode()).isEqualTo(200);
    }
  }
}
