package dev.cfn.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cfn.ai.model.ModelConfigException;
import dev.cfn.flow.graph.GraphValidationException;
import dev.cfn.flow.spec.GraphFileException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The task-graph routes ({@code cfn task} against a node): submit a graph file (YAML or JSON, the
 * format {@code cfn task submit} reads), list the runs, show one with every task's status, cancel a
 * run or one task, resume a run. Runs are RELIABLE on the node's journal ({@link GraphRuns});
 * submit, cancel and resume are audited privileged actions.
 */
final class GraphRoutes {
  private final Node node;

  GraphRoutes(Node node) {
    this.node = node;
  }

  /**
   * {@code GET /v1/graphs}: every run beside the journal, with its status, task counts and each
   * task's status.
   */
  Object list(Call call) {
    List<Map<String, Object>> runs = new ArrayList<>();
    for (String id : node.graphs.ids()) {
      Map<String, Object> v = node.graphs.view(id, false);
      @SuppressWarnings("unchecked")
      List<Map<String, Object>> tasks = (List<Map<String, Object>>) v.get("tasks");
      v.put( // each task's id and status only: results and errors are GET /v1/graphs/{run}'s
          "tasks",
          tasks.stream().map(t -> Map.of("id", t.get("id"), "status", t.get("status"))).toList());
      runs.add(v);
    }
    return Map.of("runs", runs);
  }

  /** {@code GET /v1/graphs/{run}}: the run, each task's status, result and error, its state. */
  Object show(Call call) {
    return node.graphs.view(require(runId(call)), true);
  }

  /** {@code POST /v1/graphs}: checks the graph and its agents, then starts the run durably. */
  Object submit(Call call) throws IOException {
    JsonNode g = call.body.get("graph");
    String text = g.isTextual() ? g.asText() : Gate.JSON.writeValueAsString(g);
    String runId = call.text("run", null);
    Map<String, String> state = new LinkedHashMap<>();
    call.body.path("state").properties().forEach(e -> state.put(e.getKey(), e.getValue().asText()));
    GraphRuns.Submission s =
        new GraphRuns.Submission(
            text, runId, state, call.token == null ? "anonymous" : call.token.id());
    GraphRuns.Prepared p;
    try {
      p = node.graphs.prepare(s);
    } catch (GraphFileException e) {
      throw new Problem(
              422,
              "Invalid graph",
              String.join("; ", e.problems())
                  + (e.problems().stream().allMatch(x -> x.contains("(fix: "))
                      ? ""
                      : " (fix: correct the graph; every problem is listed)"))
          .with("errors", e.problems());
    } catch (GraphValidationException | GraphRuns.SwarmRefused e) {
      throw new Problem(422, "Invalid graph", e.getMessage());
    }
    call.target("graph:" + p.runId());
    for (String agent : p.bound().definitions()) {
      call.requireScope("agent", agent);
    }
    if (node.graphs.exists(p.runId())) {
      throw Problem.conflict(
          "run "
              + p.runId()
              + " exists already"
              + (node.graphs.boundOf(p.runId()).equals(p.boundName())
                  ? " for this graph (fix: GET /v1/graphs/"
                      + p.runId()
                      + " shows it; POST /v1/graphs/"
                      + p.runId()
                      + "/resume continues it)"
                  : " for another graph (fix: give another \"run\", or none for a new id)"));
    }
    try {
      node.graphs.start(p, s);
    } catch (ModelConfigException e) {
      throw Problem.conflict(
          "no model provider is configured for the node, so the graph's agents cannot run: "
              + e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new Problem(422, "Invalid graph", e.getMessage());
    }
    call.status(201);
    call.header("Location", "/v1/graphs/" + p.runId());
    Map<String, Object> v = node.graphs.view(p.runId(), false);
    v.put("agents", p.bound().agents());
    return v;
  }

  /** {@code POST /v1/graphs/{run}/cancel}: cancels the run, or {@code task} and its dependents. */
  Object cancel(Call call) {
    String id = require(runId(call));
    String task = call.text("task", null);
    call.target("graph:" + id + (task == null ? "" : "/" + task));
    hostedOrConflict(id, "cancel");
    requireScopes(call, id);
    Map<String, Object> view = node.graphs.view(id, false);
    String status = String.valueOf(view.get("status"));
    if (!status.equals("RUNNING")) {
      throw Problem.conflict(
          "run "
              + id
              + " is "
              + status
              + "; nothing to cancel (fix: GET /v1/graphs/"
              + id
              + " shows how it stands)");
    }
    if (task != null) {
      @SuppressWarnings("unchecked")
      List<Map<String, Object>> tasks = (List<Map<String, Object>>) view.get("tasks");
      Map<String, Object> t =
          tasks.stream()
              .filter(x -> task.equals(x.get("id")))
              .findFirst()
              .orElseThrow(
                  () ->
                      Problem.notFound(
                          "run "
                              + id
                              + " has no task '"
                              + task
                              + "' (fix: use one of "
                              + tasks.stream().map(x -> String.valueOf(x.get("id"))).toList()
                              + ")"));
      String ts = String.valueOf(t.get("status"));
      if (!ts.equals("PENDING") && !ts.equals("RUNNING")) {
        throw Problem.conflict(
            "task "
                + task
                + " of run "
                + id
                + " has already ended "
                + ts
                + " (fix: cancel the whole run with an empty body)");
      }
      node.graphs.handle(id).cancel(task);
    } else {
      node.graphs.handle(id).cancel();
    }
    call.status(202);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("run", id);
    if (task != null) {
      r.put("task", task);
    }
    r.put("cancel", "requested");
    return r;
  }

  /** {@code POST /v1/graphs/{run}/resume}: continues the run (starts it if it never started). */
  Object resume(Call call) {
    String id = require(runId(call));
    call.target("graph:" + id);
    hostedOrConflict(id, "resume");
    requireScopes(call, id);
    String status = String.valueOf(node.graphs.view(id, false).get("status"));
    if (!status.equals("RUNNING") && !status.equals(GraphRuns.NOT_STARTED)) {
      throw Problem.conflict(
          "run " + id + " has ended " + status + " (fix: submit the graph again under a new run)");
    }
    try {
      node.graphs.resume(id);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw Problem.conflict("run " + id + " cannot be resumed: " + e.getMessage());
    }
    call.status(202);
    return Map.of("run", id, "resume", "requested");
  }

  /** A token acts on a run only when its scopes cover every agent type the run's tasks go to. */
  private void requireScopes(Call call, String id) {
    for (String agent : node.graphs.agentsOf(id)) {
      call.requireScope("agent", agent);
    }
  }

  private void hostedOrConflict(String id, String what) {
    if (!node.graphs.hosted(id)) {
      throw Problem.conflict(
          "run "
              + id
              + " is not run by this node: it was submitted with cfn task submit, or its agents"
              + " are gone (fix: cfn task "
              + what
              + " "
              + id
              + " on this machine while the node is stopped)");
    }
  }

  private static String runId(Call call) {
    String id = call.path("run");
    if (!GraphRuns.RUN_ID.matcher(id).matches()) {
      throw Problem.badRequest(
          "run id '" + id + "' is not 1 to 100 letters, digits, '_' or '-' (fix: e.g. run-42)");
    }
    return id;
  }

  private String require(String id) {
    if (!node.graphs.exists(id)) {
      throw Problem.notFound("no task-graph run " + id + " on this node (fix: GET /v1/graphs)");
    }
    return id;
  }
}
