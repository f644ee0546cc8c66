package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.flow.loop.LoopRecord;
import dev.cfn.flow.loop.LoopRunner;
import dev.cfn.flow.loop.LoopStatus;
import dev.cfn.server.audit.AuditEvent;
import dev.cfn.server.auth.Role;
import dev.cfn.store.journal.SqliteJournal;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CFN Loop routes on a node whose journal holds a run the product owner escalated (run before
 * the node started, by a loop "process" on the same files): listed, shown, refused a malformed or a
 * second decision, and decided through the API with the decision audited and durable.
 */
class LoopRoutesTest {
  @TempDir Path home;

  @Test
  void anEscalatedRunIsListedShownAndDecidedOnceThroughTheApi() throws Exception {
    EscalatedLoop.run(home, "esc-1");
    try (TestNode node = TestNode.start(home)) {
      String viewer = node.token(Role.VIEWER);
      String operator = node.token(Role.OPERATOR);

      JsonNode list = Gate.JSON.readTree(node.call("GET", "/v1/loops", viewer, null).body());
      assertThat(list.path("loops").toString()).contains("\"id\":\"esc-1\"").contains("WAITING");

      JsonNode shown = Gate.JSON.readTree(node.call("GET", "/v1/loops/esc-1", viewer, null).body());
      assertThat(shown.path("status").asText()).isEqualTo("WAITING");
      assertThat(shown.toString()).contains("licence question");

      assertThat(node.call("GET", "/v1/loops/nope", viewer, null).statusCode()).isEqualTo(404);
      assertThat(node.call("GET", "/v1/loops/bad%20id", viewer, null).statusCode()).isEqualTo(400);

      // a viewer may read but not decide; a malformed decision is refused and changes nothing
      String proceed = "{\"decision\":\"PROCEED\",\"note\":\"the licence is MIT\"}";
      assertThat(node.call("POST", "/v1/loops/esc-1/decision", viewer, proceed).statusCode())
          .isEqualTo(403);
      assertThat(
              node.call("POST", "/v1/loops/esc-1/decision", operator, "{\"decision\":\"YES\"}")
                  .statusCode())
          .isEqualTo(422);
      assertThat(
              Gate.JSON
                  .readTree(node.call("GET", "/v1/loops/esc-1", viewer, null).body())
                  .path("status")
                  .asText())
          .isEqualTo("WAITING");

      HttpResponse<String> decided =
          node.call("POST", "/v1/loops/esc-1/decision", operator, proceed);
      assertThat(decided.statusCode()).as(decided.body()).isEqualTo(200);
      JsonNode done = Gate.JSON.readTree(decided.body());
      assertThat(done.path("status").asText()).isEqualTo("ACCEPTED");
      assertThat(node.audit.of(AuditEvent.Kind.PRIVILEGED_ACTION))
          .anyMatch(
              e ->
                  e.target().equals("loop:esc-1")
                      && e.action().equals("POST /v1/loops/{run}/decision")
                      && e.outcome() == AuditEvent.Outcome.SUCCESS);

      HttpResponse<String> again = node.call("POST", "/v1/loops/esc-1/decision", operator, proceed);
      assertThat(again.statusCode()).isEqualTo(409);
      assertThat(again.body()).contains("not waiting for a decision");
    }
    // the decision is durable: the journal says so after the node stopped
    try (SqliteJournal j =
        SqliteJournal.builder(home.resolve(".cfn").resolve("cfn.db"))
            .payloadType(LoopRunner.journalPayloadTypes().toArray(new Class<?>[0]))
            .open()) {
      assertThat(j.state(LoopRunner.coordinator("esc-1"), LoopRecord.STATE_KEY))
          .get()
          .extracting(LoopRecord::fromJson)
          .extracting(LoopRecord::status)
          .isEqualTo(LoopStatus.ACCEPTED);
    }
  }
}
