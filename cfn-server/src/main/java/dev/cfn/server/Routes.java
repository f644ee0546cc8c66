package dev.cfn.server;

import static dev.cfn.server.auth.Role.ADMIN;
import static dev.cfn.server.auth.Role.AGENT;
import static dev.cfn.server.auth.Role.OPERATOR;
import static dev.cfn.server.auth.Role.VIEWER;

import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * The route table: every route of the API with the least role it needs, whether it is a privileged
 * (audited) action, and its body schema. The router and {@code /openapi.json} are both built from
 * this list, and tests compare the router with the document.
 *
 * <pre>
 * route                                     least role  privileged
 * GET    /health/live, /health/ready        anyone      no
 * GET    /openapi.json                      viewer      no
 * GET    /v1/agents                         viewer      no
 * GET    /v1/agents/{type}/{key}            viewer      no
 * POST   /v1/agents/validate                viewer      no   (checks a definition's text)
 * GET    /v1/budgets                        viewer      no
 * GET    /v1/dead-letters                   viewer      no
 * GET    /v1/events (Server-Sent Events)    viewer      no
 * POST   /v1/messages/send|publish|request  agent       no
 * GET    /v1/messages/{id}/answer           agent       no   (cluster: a request's stored reply)
 * GET    /v1/memory/{namespace}/{key}       agent       no
 * GET    /v1/memory?q=                      agent       no
 * PUT    /v1/memory/{namespace}/{key}       agent       yes
 * DELETE /v1/memory/{namespace}/{key}       agent       yes
 * GET    /v1/memory/{namespace}?prefix=     agent       no
 * GET    /v1/store/check                    operator    no
 * GET    /v1/backup (journal snapshot)      admin       yes
 * POST   /v1/agents                         operator    yes
 * DELETE /v1/agents/{type}/{key}            operator    yes
 * GET    /v1/dead-letters/{id}              operator    no   (shows the payload)
 * POST   /v1/dead-letters/{id}/replay       operator    yes
 * DELETE /v1/dead-letters/{id}              admin       yes
 * DELETE /v1/dead-letters                   admin       yes
 * GET    /v1/loops, /v1/loops/{run}         viewer      no
 * POST   /v1/loops                          operator    yes
 * POST   /v1/loops/{run}/decision           operator    yes
 * GET    /v1/graphs, /v1/graphs/{run}       viewer      no
 * POST   /v1/graphs                         operator    yes
 * POST   /v1/graphs/{run}/cancel|resume     operator    yes
 * GET    /v1/swarms, /v1/swarms/{name}      viewer      no
 * POST   /v1/swarms                         operator    yes
 * DELETE /v1/swarms/{name}                  operator    yes
 * POST   /v1/swarms/{name}/members          operator    yes
 * DELETE /v1/swarms/{name}/members/{type}/{key}  operator  yes
 * GET    /metrics                           viewer      no   (Prometheus text)
 * GET    /v1/alerts, /v1/alerts/history     viewer      no
 * POST   /v1/alerts/test                    operator    yes
 * GET    /v1/availability                   viewer      no
 * GET    /v1/rollouts                       viewer      no
 * POST   /v1/rollouts/{agent}/promote       operator    yes
 * POST   /v1/rollouts/{agent}/rollback      operator    yes
 * GET    /v1/certify/latest                 viewer      no
 * </pre>
 */
final class Routes {
  private Routes() {}

  static List<ApiRoute> table(Node node, BooleanSupplier ready, OpenApiDocument.Source api) {
    AgentRoutes agents = new AgentRoutes(node);
    MessageRoutes messages = new MessageRoutes(node);
    DeadLetterRoutes dead = new DeadLetterRoutes(node);
    MemoryRoutes memory = new MemoryRoutes(node);
    EventRoutes events = new EventRoutes(node.events);
    LoopRoutes loops = new LoopRoutes(node);
    GraphRoutes graphs = new GraphRoutes(node);
    SwarmRoutes swarms = new SwarmRoutes(node);
    OpsRoutes ops = new OpsRoutes(node);
    RolloutRoutes rollouts = new RolloutRoutes(node);
    StoreRoutes store = new StoreRoutes(node);
    return List.of(
        new ApiRoute("GET", "/health/live", null, false, null, "The process is up.", c -> up()),
        new ApiRoute(
            "GET",
            "/health/ready",
            null,
            false,
            null,
            "Ready: stores open, recovery finished, the runtime accepts work (else 503).",
            c -> ready(c, node, ready)),
        new ApiRoute(
            "GET", "/openapi.json", VIEWER, false, null, "This API (OpenAPI 3.1).", c -> api.get()),
        new ApiRoute(
            "GET",
            "/v1/agents",
            VIEWER,
            false,
            null,
            "Agents spawned through the API, and the definitions of .claude/agents.",
            agents::list),
        new ApiRoute(
            "POST",
            "/v1/agents",
            OPERATOR,
            true,
            "spawn",
            "Spawns an agent from a definition or a registered type, with an optional budget.",
            agents::spawn),
        new ApiRoute(
            "POST",
            "/v1/agents/validate",
            VIEWER,
            false,
            "agent-validate",
            "Checks an agent definition's text (frontmatter and prompt) without writing it: 200"
                + " when valid, else 422 with each problem's line and message.",
            agents::validate),
        new ApiRoute(
            "GET",
            "/v1/agents/{type}/{key}",
            VIEWER,
            false,
            null,
            "An agent's status: alive, mailbox depth, processed, failures, restarts.",
            agents::show),
        new ApiRoute(
            "DELETE",
            "/v1/agents/{type}/{key}",
            OPERATOR,
            true,
            null,
            "Stops an agent; its queued messages are dead-lettered.",
            agents::stop),
        new ApiRoute(
            "GET",
            "/v1/budgets",
            VIEWER,
            false,
            null,
            "What each agent spawned through the API has spent, and its limits.",
            agents::budgets),
        new ApiRoute(
            "POST",
            "/v1/messages/send",
            AGENT,
            false,
            "send",
            "Sends a message (or a task) to an agent; RELIABLE when asked.",
            messages::send),
        new ApiRoute(
            "POST",
            "/v1/messages/publish",
            AGENT,
            false,
            "publish",
            "Publishes a message on a topic.",
            messages::publish),
        new ApiRoute(
            "POST",
            "/v1/messages/request",
            AGENT,
            false,
            "request",
            "Sends a request and waits for the reply, at most timeoutMs.",
            messages::request),
        new ApiRoute(
            "GET",
            "/v1/messages/{id}/answer",
            AGENT,
            false,
            null,
            "The stored reply to a request made to an agent on the cluster (200), or 202 while it"
                + " waits; waitMs waits that long first.",
            messages::answer),
        new ApiRoute(
            "GET",
            "/v1/dead-letters",
            VIEWER,
            false,
            null,
            "The reliable dead letters: ids, recipients, causes (no payloads).",
            dead::list),
        new ApiRoute(
            "GET",
            "/v1/dead-letters/{id}",
            OPERATOR,
            false,
            null,
            "One dead letter with its payload and attempts.",
            dead::show),
        new ApiRoute(
            "POST",
            "/v1/dead-letters/{id}/replay",
            OPERATOR,
            true,
            null,
            "Delivers a dead letter again on the live runtime, attempts reset.",
            dead::replay),
        new ApiRoute(
            "DELETE",
            "/v1/dead-letters/{id}",
            ADMIN,
            true,
            null,
            "Deletes one dead letter.",
            dead::remove),
        new ApiRoute(
            "DELETE",
            "/v1/dead-letters",
            ADMIN,
            true,
            null,
            "Deletes every dead letter.",
            dead::purge),
        new ApiRoute(
            "GET",
            "/v1/events",
            VIEWER,
            false,
            null,
            "Live events (cfn.agent.*, cfn.flow.*, cfn.deadletter) as Server-Sent Events;"
                + " Last-Event-ID resumes.",
            events::stream),
        new ApiRoute(
            "GET",
            "/v1/memory",
            AGENT,
            false,
            null,
            "Full-text search of memory: ?q=TEXT[&namespace=NS][&limit=N].",
            memory::search),
        new ApiRoute(
            "GET",
            "/v1/memory/{namespace}/{key}",
            AGENT,
            false,
            null,
            "One memory entry.",
            memory::get),
        new ApiRoute(
            "PUT",
            "/v1/memory/{namespace}/{key}",
            AGENT,
            true,
            "memory-put",
            "Creates or replaces a memory entry.",
            memory::put),
        new ApiRoute(
            "GET",
            "/v1/loops",
            VIEWER,
            false,
            null,
            "The CFN Loop runs in the journal, with their status.",
            loops::list),
        new ApiRoute(
            "POST",
            "/v1/loops",
            OPERATOR,
            true,
            "loop-submit",
            "Starts a CFN Loop run (task, implementers, validators, owner, bounds) on the node's"
                + " runner, RELIABLE: it goes on after a restart.",
            loops::submit),
        new ApiRoute(
            "GET",
            "/v1/loops/{run}",
            VIEWER,
            false,
            null,
            "One CFN Loop run's record: steps, votes, decisions, tokens and cost.",
            loops::show),
        new ApiRoute(
            "POST",
            "/v1/loops/{run}/decision",
            OPERATOR,
            true,
            "loop-decision",
            "Decides for a run the product owner escalated: PROCEED, DEFER or ABORT.",
            loops::decide),
        new ApiRoute(
            "GET",
            "/v1/graphs",
            VIEWER,
            false,
            null,
            "The task-graph runs beside the journal, with their status and task counts.",
            graphs::list),
        new ApiRoute(
            "POST",
            "/v1/graphs",
            OPERATOR,
            true,
            "graph-submit",
            "Checks a task graph (YAML or JSON, as cfn task submit reads) and starts it, RELIABLE.",
            graphs::submit),
        new ApiRoute(
            "GET",
            "/v1/graphs/{run}",
            VIEWER,
            false,
            null,
            "One task-graph run: its status, every task's status, result and error, its state.",
            graphs::show),
        new ApiRoute(
            "POST",
            "/v1/graphs/{run}/cancel",
            OPERATOR,
            true,
            "graph-cancel",
            "Cancels a run, or one task and its dependents ({\"task\": ID}).",
            graphs::cancel),
        new ApiRoute(
            "POST",
            "/v1/graphs/{run}/resume",
            OPERATOR,
            true,
            null,
            "Continues a run submitted to this node (starts it if it never started).",
            graphs::resume),
        new ApiRoute(
            "GET",
            "/v1/swarms",
            VIEWER,
            false,
            null,
            "The node's swarms: topology, size, refusals and spending.",
            swarms::list),
        new ApiRoute(
            "POST",
            "/v1/swarms",
            OPERATOR,
            true,
            "swarm-create",
            "Makes a swarm (name, topology, budget, first members); the bus enforces its topology.",
            swarms::create),
        new ApiRoute(
            "GET",
            "/v1/swarms/{name}",
            VIEWER,
            false,
            null,
            "A swarm: members, roles, who may message whom, refusals by rule, budget.",
            swarms::show),
        new ApiRoute(
            "DELETE",
            "/v1/swarms/{name}",
            OPERATOR,
            true,
            null,
            "Closes a swarm; its members keep running.",
            swarms::close),
        new ApiRoute(
            "POST",
            "/v1/swarms/{name}/members",
            OPERATOR,
            true,
            "swarm-join",
            "An agent joins the swarm (spawned if not running).",
            swarms::join),
        new ApiRoute(
            "DELETE",
            "/v1/swarms/{name}/members/{type}/{key}",
            OPERATOR,
            true,
            null,
            "A member leaves the swarm (it keeps running).",
            swarms::leave),
        new ApiRoute(
            "GET",
            "/metrics",
            VIEWER,
            false,
            null,
            "The node's metrics in the Prometheus text format (docs/metrics.md).",
            ops::metrics),
        new ApiRoute(
            "GET",
            "/v1/alerts",
            VIEWER,
            false,
            null,
            "The alert rules and their states (inactive, pending, firing).",
            ops::alerts),
        new ApiRoute(
            "GET",
            "/v1/alerts/history",
            VIEWER,
            false,
            null,
            "Alert transitions and notifications, oldest first: ?limit=N (default 100).",
            ops::history),
        new ApiRoute(
            "POST",
            "/v1/alerts/test",
            OPERATOR,
            true,
            null,
            "Sends a test notification to the webhook and the log: ?rule=NAME.",
            ops::test),
        new ApiRoute(
            "GET",
            "/v1/availability",
            VIEWER,
            false,
            null,
            "The node's uptime over 1h, 24h and 30d, restarts and downtime windows.",
            ops::availability),
        new ApiRoute(
            "GET",
            "/v1/rollouts",
            VIEWER,
            false,
            null,
            "The canary rollouts of agent versions: step, share, gates, each version's figures,"
                + " history.",
            rollouts::list),
        new ApiRoute(
            "POST",
            "/v1/rollouts/{agent}/promote",
            OPERATOR,
            true,
            null,
            "Takes a running rollout one step up now; from its last step, completes it.",
            rollouts::promote),
        new ApiRoute(
            "POST",
            "/v1/rollouts/{agent}/rollback",
            OPERATOR,
            true,
            "rollout-rollback",
            "Rolls a running rollout back, with the reason: the version in use takes every task.",
            rollouts::rollback),
        new ApiRoute(
            "GET",
            "/v1/certify/latest",
            VIEWER,
            false,
            null,
            "The report of the latest cfn certify run on this node's home"
                + " (.cfn/certify/certification.json).",
            ops::certification),
        new ApiRoute(
            "DELETE",
            "/v1/memory/{namespace}/{key}",
            AGENT,
            true,
            null,
            "Deletes a memory entry.",
            memory::delete),
        new ApiRoute(
            "GET",
            "/v1/memory/{namespace}",
            AGENT,
            false,
            null,
            "The entries of a namespace in key order: ?prefix=P&limit=N (default 100).",
            memory::list),
        new ApiRoute(
            "GET",
            "/v1/store/check",
            OPERATOR,
            false,
            null,
            "Integrity check and every record's checksum, of the journal and the memory file.",
            store::check),
        new ApiRoute(
            "GET",
            "/v1/backup",
            ADMIN,
            true,
            null,
            "A verified online snapshot of the journal (application/vnd.sqlite3).",
            store::backup));
  }

  private static Object up() {
    return Map.of("status", "up");
  }

  private static Object ready(Call call, Node node, BooleanSupplier ready) {
    if (!ready.getAsBoolean()) {
      call.ctx.header("Retry-After", "1");
      throw new Problem(503, "Not ready", "the node is starting or stopping");
    }
    String unhealthy = node.unhealthy(); // each store answers a read: open and usable
    if (unhealthy != null) {
      call.ctx.header("Retry-After", "1");
      throw new Problem(503, "Not ready", "a store does not answer: " + unhealthy);
    }
    return Map.of("status", "ready", "recoveredMessages", node.runtime.recoveredMessages());
  }
}
