package dev.cfn.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.ai.model.ModelConfigException;
import dev.cfn.core.spi.Journal;
import dev.cfn.flow.loop.LoopRecord;
import dev.cfn.flow.loop.LoopRunner;
import dev.cfn.flow.loop.LoopSpec;
import dev.cfn.flow.loop.LoopStatus;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The CFN Loop routes: a new run on the node's own loop runner ({@code cfn loop run}), the runs the
 * journal holds ({@code cfn loop status}), one run's whole record ({@code cfn loop show --json}),
 * and the person's decision on a run the product owner escalated ({@code cfn loop decide}). A
 * submission and a decision are audited privileged actions. A decision ends the run without asking
 * any agent, so the node needs no model for it; a submission needs one for the agents that are
 * definitions of {@code .claude/agents} ({@link Node#loops()}).
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
    java.util.Set<String> listed = new java.util.HashSet<>();
    runs.forEach(m -> listed.add((String) m.get("id")));
    for (String id : node.loopRuns.acceptedIds()) {
      if (!listed.contains(id)) { // accepted; its coordinator has not written its record yet
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("status", LoopStatus.RUNNING.name());
        m.put("iterations", 0);
        m.put("steps", 0);
        m.put("tokens", 0);
        m.put("costUsd", "0");
        m.put("reason", null);
        runs.add(m);
      }
    }
    return Map.of("loops", runs);
  }

  /**
   * {@code POST /v1/loops}: checks the loop (its agents, the bounds, the token's scopes for every
   * agent it names), commits its acceptance ({@link LoopRuns#accept}) and starts it on the node's
   * runner; the run goes on by itself (and after a crash or restart of the node) until it finishes
   * or waits for a person. Answers 201 with the run id once the acceptance is committed; {@code GET
   * /v1/loops/{run}} follows it from then on.
   */
  Object submit(Call call) {
    String id = call.text("run", null);
    if (id == null) {
      id = LoopRuns.defaultRunId();
    }
    call.target("loop:" + id);
    LoopSpec spec;
    try {
      LoopSpec.Builder b =
          LoopSpec.builder()
              .implementers(texts(call.body.path("implementers")))
              .validators(texts(call.body.path("validators")))
              .owner(call.text("owner"));
      JsonNode n = call.body.path("gate");
      if (n.isNumber()) {
        b.gate(n.decimalValue());
      }
      n = call.body.path("threshold");
      if (n.isNumber()) {
        b.threshold(n.decimalValue());
      }
      if (call.body.path("quorum").canConvertToInt()) {
        b.quorum(call.body.path("quorum").asInt());
      }
      if (call.body.has("maxImplementations")) {
        b.maxImplementations(call.body.path("maxImplementations").asInt());
      }
      if (call.body.has("maxValidations")) {
        b.maxValidations(call.body.path("maxValidations").asInt());
      }
      if (call.body.has("callTimeoutMs")) {
        b.callTimeout(Duration.ofMillis(call.body.path("callTimeoutMs").asLong()));
      }
      spec = b.build();
    } catch (IllegalArgumentException e) {
      throw new Problem(422, "Invalid loop", e.getMessage());
    }
    List<String> agents = LoopRuns.agents(spec);
    List<String> unknown = agents.stream().filter(a -> !node.loopRuns.knows(a)).toList();
    if (!unknown.isEmpty()) {
      throw new Problem(
              422,
              "Invalid loop",
              "the loop names agents this node has neither a definition of (.claude/agents) nor"
                  + " a type for: "
                  + unknown
                  + " (fix: use "
                  + (node.loopRuns.known().isEmpty()
                      ? "a definition you add to .claude/agents and restart the node"
                      : "one of " + node.loopRuns.known())
                  + ")")
          .with("unknown", unknown);
    }
    for (String agent : agents) {
      call.requireScope("agent", agent);
    }
    if (!node.loopRuns.claim(id)) {
      throw Problem.conflict(
          "run "
              + id
              + " exists already (fix: GET /v1/loops/"
              + id
              + " shows it; give another \"run\", or none for a new id)");
    }
    boolean accepted = false;
    boolean started = false;
    try {
      node.loopRuns.registerAgents(agents); // a missing provider is refused before anything is kept
      // durable before the 201: a crash from here on resumes the run when the node opens again
      node.loopRuns.accept(id, spec, call.text("task"));
      accepted = true;
      node.loopRuns.forgetWhenFinished(id, node.loops().start(id, spec, call.text("task")));
      started = true;
    } catch (ModelConfigException e) {
      throw Problem.conflict(
          "no model provider is configured for the node, so the loop's agents cannot run: "
              + e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new Problem(422, "Invalid loop", e.getMessage());
    } finally {
      if (!started) {
        if (accepted) {
          node.loopRuns.forget(id); // the runner refused it: nothing to start after a restart
        }
        node.loopRuns.release(id); // refused before anything was started: the id is free
      }
    }
    call.status(201);
    call.header("Location", "/v1/loops/" + id);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", id);
    m.put("status", LoopStatus.RUNNING.name());
    m.put("implementers", spec.implementers());
    m.put("validators", spec.validators());
    m.put("owner", spec.owner());
    m.put("quorum", spec.quorum());
    return m;
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(e -> out.add(e.asText()));
    return out;
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
      java.util.concurrent.CompletableFuture<LoopRecord> ended =
          node.loops().decide(id, decision, call.text("note", ""));
      node.loopRuns.forgetWhenFinished(id, ended); // its acceptance goes once the end is committed
      done = ended.get(DECIDE_SECONDS, TimeUnit.SECONDS);
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
        .or(() -> node.loopRuns.acceptedRecord(id)) // accepted, not begun yet: its first record
        .orElseThrow(
            () ->
                Problem.notFound(
                    "no CFN Loop run " + id + " on this node (fix: GET /v1/loops lists them)"));
  }
}
