package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.server.auth.Role;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Swarms made through the API are kept in the node's journal: a node started again on the same home
 * has every swarm with its topology, budget limits and members (those that joined and did not
 * leave, in their order), enforcing the topology as before; a closed swarm stays closed.
 */
class SwarmRestartTest {
  @TempDir Path home;

  @Test
  void swarmsOutliveARestartOfTheNode() throws Exception {
    try (TestNode node = TestNode.start(home, FlowRoutesTest.RELAY)) {
      String operator = node.token(Role.OPERATOR);
      HttpResponse<String> r =
          node.call(
              "POST",
              "/v1/swarms",
              operator,
              "{\"name\":\"team\",\"topology\":\"star\",\"budget\":{\"maxCalls\":10,"
                  + "\"maxCostUsd\":1.5},\"members\":[{\"type\":\"relay\",\"key\":\"hub\"},"
                  + "{\"type\":\"relay\",\"key\":\"a\"},{\"type\":\"echo\",\"key\":\"b\"}]}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
      r =
          node.call(
              "POST", "/v1/swarms/team/members", operator, "{\"type\":\"echo\",\"key\":\"c\"}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
      r = node.call("DELETE", "/v1/swarms/team/members/echo/b", operator, null);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      r = node.call("POST", "/v1/swarms", operator, "{\"name\":\"gone\",\"topology\":\"mesh\"}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
      r = node.call("POST", "/v1/swarms", operator, "{\"name\":\"ring-1\",\"topology\":\"ring\"}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
      r = node.call("DELETE", "/v1/swarms/gone", operator, null);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    try (TestNode node = TestNode.start(home, FlowRoutesTest.RELAY)) {
      String viewer = node.token(Role.VIEWER);
      String operator = node.token(Role.OPERATOR);
      JsonNode list = Gate.JSON.readTree(node.get("/v1/swarms", viewer).body());
      assertThat(list.path("swarms").findValuesAsText("name")).containsExactly("ring-1", "team");
      JsonNode s = Gate.JSON.readTree(node.get("/v1/swarms/team", viewer).body());
      assertThat(s.path("topology").asText()).isEqualTo("star");
      assertThat(s.path("lead").asText()).isEqualTo("relay/hub");
      assertThat(s.path("budget").path("limits").path("maxCalls").asInt()).isEqualTo(10);
      assertThat(s.path("budget").path("limits").path("maxCostUsd").decimalValue())
          .isEqualByComparingTo("1.5");
      assertThat(s.path("memberList").findValuesAsText("id"))
          .containsExactly("relay/hub", "relay/a", "echo/c");
      assertThat(
              Gate.JSON
                  .readTree(node.get("/v1/swarms/ring-1", viewer).body())
                  .path("topology")
                  .asText())
          .isEqualTo("ring");
      assertThat(node.get("/v1/swarms/gone", viewer).statusCode()).isEqualTo(404);

      // the topology is enforced again: a spoke messaging a spoke is refused by the bus
      assertThat(
              node.call(
                      "POST",
                      "/v1/messages/send",
                      operator,
                      "{\"to\":\"relay/a\",\"payload\":\"to echo/c\"}")
                  .statusCode())
          .isEqualTo(202);
      JsonNode refused =
          FlowRoutesTest.until(
              node, "/v1/swarms/team", viewer, j -> j.path("refused").asLong() == 1);
      assertThat(refused.path("recentRefusalsByRule").path("star topology").asInt()).isEqualTo(1);

      // and it changes on: closed here, it stays closed after another restart
      assertThat(node.call("DELETE", "/v1/swarms/ring-1", operator, null).statusCode())
          .isEqualTo(200);
    }
    try (TestNode node = TestNode.start(home, FlowRoutesTest.RELAY)) {
      JsonNode list = Gate.JSON.readTree(node.get("/v1/swarms", node.token(Role.VIEWER)).body());
      assertThat(list.path("swarms").findValuesAsText("name")).containsExactly("team");
    }
  }
}
