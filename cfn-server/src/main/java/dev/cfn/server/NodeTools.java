package dev.cfn.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cfn.server.audit.AuditEvent;
import dev.cfn.server.auth.ApiToken;
import dev.cfn.server.mcp.McpCaller;
import dev.cfn.server.mcp.NodeTool;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The MCP tools of a node's task graphs, swarms and CFN Loop runs, served at {@code /mcp} beside
 * cfn's own tools: each one is the REST route it mirrors, called without an HTTP exchange of its
 * own. A tool's input is the route's body schema (from {@link RequestSchemas}) with its path
 * parameters added as arguments ({@code run}, {@code swarm}, {@code type}, {@code key}); a call
 * runs the route's own chain after the {@code /mcp} request was admitted ({@link McpEndpoint}:
 * token, rate limit, role {@code agent}): the route's role (a denial audited, as on REST) → its
 * body schema → its action, whose scope checks refuse and audit as on REST → for a privileged
 * route, its audit event, marked {@code via mcp.TOOL}. The MCP server records each call as well
 * ({@code mcp.TOOL}). So a tool allows, refuses, validates and audits exactly as its route does,
 * and a route added to the table here is all a new tool needs. Tools whose route the table lacks
 * are not offered.
 */
final class NodeTools {
  /**
   * One tool: its name, the route it mirrors ({@code METHOD PATH}), and which argument fills which
   * path parameter.
   */
  private record Spec(String tool, String route, Map<String, String> pathArgs) {}

  private static final List<Spec> SPECS =
      List.of(
          new Spec("graphs_list", "GET /v1/graphs", Map.of()),
          new Spec("graph_show", "GET /v1/graphs/{run}", Map.of("run", "run")),
          new Spec("graph_submit", "POST /v1/graphs", Map.of()),
          new Spec("graph_cancel", "POST /v1/graphs/{run}/cancel", Map.of("run", "run")),
          new Spec("graph_resume", "POST /v1/graphs/{run}/resume", Map.of("run", "run")),
          new Spec("swarms_list", "GET /v1/swarms", Map.of()),
          new Spec("swarm_show", "GET /v1/swarms/{name}", Map.of("swarm", "name")),
          new Spec("swarm_create", "POST /v1/swarms", Map.of()),
          new Spec("swarm_join", "POST /v1/swarms/{name}/members", Map.of("swarm", "name")),
          new Spec(
              "swarm_leave",
              "DELETE /v1/swarms/{name}/members/{type}/{key}",
              ordered("swarm", "name", "type", "type", "key", "key")),
          new Spec("swarm_close", "DELETE /v1/swarms/{name}", Map.of("swarm", "name")),
          new Spec("loops_list", "GET /v1/loops", Map.of()),
          new Spec("loop_show", "GET /v1/loops/{run}", Map.of("run", "run")),
          new Spec("loop_submit", "POST /v1/loops", Map.of()),
          new Spec("loop_decide", "POST /v1/loops/{run}/decision", Map.of("run", "run")));

  private static final Map<String, String> ARGUMENTS =
      Map.of(
          "run", "The run's id.",
          "swarm", "The swarm's name.",
          "type", "The member's agent type.",
          "key", "The member's key.");

  private final Gate gate;
  private final RequestSchemas schemas;

  private NodeTools(Gate gate, RequestSchemas schemas) {
    this.gate = gate;
    this.schemas = schemas;
  }

  /** The tools of the routes {@code table} has, in {@link #SPECS}' order. */
  static List<NodeTool> of(List<ApiRoute> table, Gate gate, RequestSchemas schemas) {
    NodeTools tools = new NodeTools(gate, schemas);
    Map<String, ApiRoute> byLabel = new LinkedHashMap<>();
    table.forEach(r -> byLabel.put(r.label(), r));
    List<NodeTool> out = new ArrayList<>();
    for (Spec spec : SPECS) {
      ApiRoute route = byLabel.get(spec.route());
      if (route == null || route.role() == null) {
        continue;
      }
      out.add(
          new NodeTool(
              spec.tool(),
              route.summary()
                  + " (mirrors "
                  + route.label()
                  + ": a token with the role "
                  + route.role().label()
                  + " or above, and the scopes of the agents it acts on)",
              tools.schema(spec, route),
              route.method().equals("GET"),
              (caller, args) -> tools.call(spec, route, caller, args)));
    }
    return List.copyOf(out);
  }

  /** The route's body schema, with the path parameters as required string arguments. */
  private ObjectNode schema(Spec spec, ApiRoute route) {
    ObjectNode s;
    if (route.schema() != null) {
      s = schemas.document(route.schema()).deepCopy();
    } else {
      s = Gate.JSON.createObjectNode();
      s.put("type", "object");
      s.put("additionalProperties", false);
    }
    ObjectNode properties =
        s.get("properties") instanceof ObjectNode p ? p : s.putObject("properties");
    ArrayNode required = s.get("required") instanceof ArrayNode r ? r : s.putArray("required");
    spec.pathArgs()
        .keySet()
        .forEach(
            arg -> {
              properties
                  .putObject(arg)
                  .put("type", "string")
                  .put("minLength", 1)
                  .put("maxLength", 255)
                  .put("pattern", "^[^\\u0000-\\u001f/]+$")
                  .put("description", ARGUMENTS.getOrDefault(arg, arg));
              required.add(arg);
            });
    if (required.isEmpty()) {
      s.remove("required");
    }
    return s;
  }

  /** One call of {@code route} through {@code spec}'s tool, by {@code caller}. */
  private NodeTool.Answer call(Spec spec, ApiRoute route, McpCaller caller, JsonNode args)
      throws Exception {
    String via = "via mcp." + spec.tool();
    if (!(caller.credential() instanceof ApiToken token)) {
      throw new NodeTool.Refusal(
          NodeTool.Refusal.Kind.DENIED,
          spec.tool()
              + " acts on the node for the holder of a token, and this call carries none (fix:"
              + " call it through cfn serve's /mcp with Authorization: Bearer TOKEN)");
    }
    if (!token.role().includes(route.role())) {
      gate.audit(
          AuditEvent.Kind.AUTHORIZATION_DENIAL,
          token.id(),
          route.label(),
          "-",
          AuditEvent.Outcome.DENIED,
          "role " + token.role().label() + " is below " + route.role().label() + " " + via);
      throw new NodeTool.Refusal(
          NodeTool.Refusal.Kind.DENIED,
          "permission denied: "
              + spec.tool()
              + " mirrors "
              + route.label()
              + ", which needs the role "
              + route.role().label()
              + " or above; "
              + Gate.principal(token)
              + " has "
              + token.role().label()
              + " (fix: use a token created with --role "
              + route.role().label()
              + ")");
    }
    Map<String, String> params = new LinkedHashMap<>();
    spec.pathArgs().forEach((arg, param) -> params.put(param, args.path(arg).asText()));
    ObjectNode body = null;
    if (route.schema() != null) {
      body = args.deepCopy();
      body.remove(spec.pathArgs().keySet());
      List<String> errors = schemas.check(route.schema(), body);
      if (!errors.isEmpty()) {
        throw new NodeTool.Refusal(
            NodeTool.Refusal.Kind.INVALID,
            "invalid arguments for "
                + spec.tool()
                + ": "
                + String.join("; ", errors)
                + " (fix: follow the tool's input schema)");
      }
    }
    Call call = new Call(route, token, body, gate, params);
    try {
      Object result = route.action().handle(call);
      if (route.privileged()) {
        gate.audit(
            AuditEvent.Kind.PRIVILEGED_ACTION,
            token.id(),
            route.label(),
            call.target(),
            AuditEvent.Outcome.SUCCESS,
            "done " + via);
      }
      return new NodeTool.Answer(
          Gate.JSON.valueToTree(result), route.label() + " " + call.target());
    } catch (Problem p) {
      if (route.privileged() && p.status != 403) { // a 403 was audited as a denial already
        gate.audit(
            AuditEvent.Kind.PRIVILEGED_ACTION,
            token.id(),
            route.label(),
            call.target(),
            AuditEvent.Outcome.FAILED,
            p.title + " " + via);
      }
      throw new NodeTool.Refusal(
          switch (p.status) {
            case 401, 403 -> NodeTool.Refusal.Kind.DENIED;
            case 400, 413, 415, 422 -> NodeTool.Refusal.Kind.INVALID;
            default -> NodeTool.Refusal.Kind.FAILED;
          },
          (p.status == 403 ? "permission denied: " : "")
              + p.getMessage()
              + " ("
              + p.status
              + " "
              + p.title
              + " from "
              + route.label()
              + ")");
    } catch (Exception | LinkageError e) {
      if (route.privileged()) {
        gate.audit(
            AuditEvent.Kind.PRIVILEGED_ACTION,
            token.id(),
            route.label(),
            call.target(),
            AuditEvent.Outcome.FAILED,
            e.getClass().getSimpleName() + " " + via);
      }
      throw e;
    }
  }

  private static Map<String, String> ordered(String... pairs) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      m.put(pairs[i], pairs[i + 1]);
    }
    return m;
  }
}
