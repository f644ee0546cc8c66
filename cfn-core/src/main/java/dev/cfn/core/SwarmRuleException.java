package dev.cfn.core;

/**
 * Thrown by a send (or failing a request's future) when the {@link SwarmRule} of the swarm both
 * agents belong to refuses the message. Nothing was delivered to {@link #recipient()}.
 */
public final class SwarmRuleException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String swarm;
  private final transient AgentId sender;
  private final transient AgentId recipient;

  SwarmRuleException(String swarm, AgentId sender, AgentId recipient, String reason) {
    super(
        "swarm '"
            + swarm
            + "' refused the message from "
            + sender
            + " to "
            + recipient
            + ": "
            + reason);
    this.swarm = swarm;
    this.sender = sender;
    this.recipient = recipient;
  }

  /** The swarm whose rule refused the message. */
  public String swarm() {
    return swarm;
  }

  /** The member that sent it. */
  public AgentId sender() {
    return sender;
  }

  /** The member it was for. */
  public AgentId recipient() {
    return recipient;
  }
}
