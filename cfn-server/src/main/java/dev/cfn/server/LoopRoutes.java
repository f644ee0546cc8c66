package dev.cfn.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.core.spi.Journal;
import dev.cfn.flow.loop.LoopRecord;
import dev.cfn.flow.loop.LoopRunner;
import dev.cfn.flow.loop.LoopStatus;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The CFN Loop routes: the runs the journal holds ({@code cfn loop status}), one run's whole record
 * ({@code cfn loop show --json}), and the person's decision on a run the product owner escalated
 * ({@code cfn loop decide}), which is an audited privileged action. A decision ends the run without
 * asking any agent, so the node needs no model or loop file for it.
 */
final class LoopRoutes {
  private static final long DECIDE_SECONDS = 60;

  private final Node node;

  LoopRoutes(Node node) {
    this.node = node;
  }

  /** {@code GET /v1/loops}: every run, by run id, with its status, iterations, tokens and cost. */
  Object list(Call call) {
    List<Map<String, Object>> runs = new ArrayList<>();
    node.journal
        .stateByPrefix(LoopRunner.INDEX, "", Journal.MAX_PREFIX_ENTRIES)
        .forEach(
            (id, status) -> {
              Map<String, Object> m = new LinkedHashMap<>();
              m.put("id", id);
              m.put("status", status);
              node.journal
                  .state(LoopRunner.coordinator(id), LoopRecord.STATE_KEY)
                  .map(LoopRecord::fromJson)
                  .ifPresent(
                      r -> {
                        m.put("status", r.status().name());
                        m.put("iterations", r.iterations());
                        m.put("steps", r.steps().size());
                        m.put("tokens", r.tokens());
                        m.put("costUsd", r.costUsd().toPlainString());
                        m.put("reason", r.reason());
                      });
              runs.add(m);
            });
    return Map.of("loops", runs);
  }

  /** {@code GET /v1/loops/{run}}: the run's record (steps, votes, decisions, tokens, cost). */
  Object show(Call call) throws IOException {
    LoopRecord r = require(runId(call));
    return Gate.JSON.readTree(r.toJson());
  }

  /** {@code POST /v1/loops/{run}/decision}: PROCEED, DEFER or ABORT a waiting run. */
  Object decide(Call call) throws Exception {
    String id = runId(call);
    call.target("loop:" + id);
    LoopRecord r = require(id);
    if (r.status() != LoopStatus.WAITING) {
      throw Problem.conflict(
          "run "
              + id
              + " is "
              + r.status()
              + ", not waiting for a decision (fix: GET /v1/loops/"
              + id
              + " says where it stands)");
    }
    LoopRunner.HumanDecision decision = LoopRunner.HumanDecision.valueOf(call.text("decision"));
    LoopRecord done;
    try {
      done =
          node.loops()
              .decide(id, decision, call.text("note", ""))
              .get(DECIDE_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new Problem(
          504,
          "Decision pending",
          "run " + id + " did not take the decision within " + DECIDE_SECONDS + " s; it is kept");
    } catch (ExecutionException e) {
      throw Problem.conflict("run " + id + " refused the decision: " + e.getCause().getMessage());
    }
    JsonNode record = Gate.JSON.readTree(done.toJson());
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", id);
    m.put("status", done.status().name());
    m.put("record", record);
    return m;
  }

  private static String runId(Call call) {
    String id = call.path("run");
    try {
      LoopRunner.coordinator(id);
      return id;
    } catch (IllegalArgumentException e) {
      throw Problem.badRequest(e.getMessage());
    }
  }

  private LoopRecord require(String id) {
    Optional<String> stored = node.journal.state(LoopRunner.coordinator(id), LoopRecord.STATE_KEY);
    return stored
        .map(LoopRecord::fromJson)
        .orElseThrow(
            () ->
                Problem.notFound(
                    "no CFN Loop run " + id + " on this node (fix: GET /v1/loops lists them)"));
  }
}
