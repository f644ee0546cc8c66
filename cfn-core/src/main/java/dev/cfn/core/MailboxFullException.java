package dev.cfn.core;

/** Thrown by a send when the recipient's mailbox is full and its policy refuses to wait longer. */
public final class MailboxFullException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient AgentId recipient;

  MailboxFullException(AgentId recipient, int capacity, String detail) {
    super(
        "mailbox of "
            + recipient
            + " is full ("
            + capacity
            + " messages per lane); "
            + detail
            + ". Slow the sender, raise the agent type's mailbox capacity, or choose another"
            + " overflow policy");
    this.recipient = recipient;
  }

  /** The agent whose mailbox was full. */
  public AgentId recipient() {
    return recipient;
  }
}
