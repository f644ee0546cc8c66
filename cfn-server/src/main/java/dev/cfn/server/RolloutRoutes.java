package dev.cfn.server;

import dev.cfn.ai.rollout.RolloutStatus;
import dev.cfn.ai.rollout.RolloutStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The rollout routes: every canary rollout of {@code .cfn/rollouts} with its step, figures and
 * history ({@code cfn rollout status}), and the operator's two verbs, promote and roll back ({@code
 * cfn rollout promote|rollback}), audited privileged actions. A change goes through the same {@link
 * RolloutStore} as the commands (file lock, atomic rewrite), and the node attaches or re-reads the
 * rollout at once rather than at its next poll.
 */
final class RolloutRoutes {
  private final Node node;

  RolloutRoutes(Node node) {
    this.node = node;
  }

  /** {@code GET /v1/rollouts}: every rollout kept here, by agent name. */
  Object list(Call call) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (RolloutStatus s : node.rolloutStore().list()) {
      out.add(s.toMap());
    }
    return Map.of("rollouts", out);
  }

  /** {@code POST /v1/rollouts/{agent}/promote}: one step up now; from the last, completes it. */
  Object promote(Call call) {
    String agent = agent(call);
    return change(agent, () -> node.rolloutStore().promote(agent, Instant.now(), by(call)).toMap());
  }

  /** {@code POST /v1/rollouts/{agent}/rollback}: the version in use takes every task again. */
  Object rollback(Call call) {
    String agent = agent(call);
    String reason = call.text("reason").strip();
    if (reason.isEmpty()) {
      throw Problem.badRequest(
          "the reason is blank (fix: say why, such as \"answers read worse\")");
    }
    return change(
        agent, () -> node.rolloutStore().rollback(agent, reason, Instant.now(), by(call)).toMap());
  }

  private Object change(String agent, java.util.function.Supplier<Map<String, Object>> action) {
    if (node.rolloutStore().status(agent).isEmpty()) {
      throw Problem.notFound(
          "no rollout of "
              + agent
              + " on this node (fix: start one with cfn rollout start "
              + agent
              + " --to FILE; GET /v1/rollouts lists them)");
    }
    Map<String, Object> done;
    try {
      done = action.get();
    } catch (IllegalStateException e) {
      throw Problem.conflict(e.getMessage());
    }
    node.refreshRollouts();
    return done;
  }

  private static String agent(Call call) {
    String agent = call.path("agent");
    call.target("agent:" + agent);
    if (!dev.cfn.ai.definition.AgentDefinition.isValidName(agent)) {
      throw Problem.badRequest(
          "'"
              + agent
              + "' is not an agent name (fix: lowercase letters, digits, hyphens and dots, as"
              + " GET /v1/rollouts shows them)");
    }
    return agent;
  }

  private static String by(Call call) {
    return call.token == null ? "api" : "token " + call.token.id();
  }
}
