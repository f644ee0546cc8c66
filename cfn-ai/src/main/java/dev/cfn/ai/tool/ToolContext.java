package dev.cfn.ai.tool;

import dev.cfn.core.AgentContext;
import dev.cfn.core.AgentId;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * Who calls a tool and until when. {@link ToolExecutor} builds one per call; tools use it to act as
 * the calling agent (memory access levels, messages sent from the agent) and to stop in time.
 *
 * @param agent the calling agent
 * @param swarm the agent's swarm, or null when it belongs to none
 * @param project the agent's project, or null when it belongs to none
 * @param agentContext the agent's runtime context when the tool is called while the agent handles a
 *     message, else null; tools that send messages need it ({@link #requireAgentContext(String)}).
 *     It is usable only until the call returns: a tool still running after its timeout gets {@link
 *     IllegalStateException} from it
 * @param deadline when the call times out; long-running tools should check {@link #remaining()}
 */
public record ToolContext(
    AgentId agent, String swarm, String project, AgentContext agentContext, Instant deadline) {

  /** Checks the required parts. */
  public ToolContext {
    Objects.requireNonNull(agent, "agent");
    Objects.requireNonNull(deadline, "deadline");
  }

  /**
   * A context for {@code agent}, in no swarm or project, outside a handler, due in {@code timeout}.
   */
  public static ToolContext of(AgentId agent, Duration timeout) {
    return new ToolContext(agent, null, null, null, Instant.now().plus(timeout));
  }

  /** The time left before the deadline; zero once it has passed. */
  public Duration remaining() {
    Duration left = Duration.between(Instant.now(), deadline);
    return left.isNegative() ? Duration.ZERO : left;
  }

  /**
   * The agent's runtime context, for tools that send or publish messages as the agent.
   *
   * @param tool the tool's name, for the message
   * @throws IllegalStateException when the tool is called outside a message handler
   */
  public AgentContext requireAgentContext(String tool) {
    if (agentContext == null) {
      throw new IllegalStateException(
          "tool '"
              + tool
              + "' needs the agent's runtime context, but agent "
              + agent
              + " called it outside a message handler; call ToolExecutor.execute(call, context)"
              + " from the handler");
    }
    return agentContext;
  }
}
