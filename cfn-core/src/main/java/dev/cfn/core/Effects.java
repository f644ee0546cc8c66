package dev.cfn.core;

/**
 * What a handler of a {@link DeliveryMode#RELIABLE} message commits atomically with its
 * acknowledgement: state writes in the journal and outgoing reliable messages (an outbox). If the
 * handler throws, or the process dies before the commit, none of them happens and the message is
 * redelivered; if it was already acknowledged, none happens again. So these effects happen exactly
 * once per message.
 *
 * <p>An agent whose handler used its effects (any call, reads included) handles its next message
 * only once this one's acknowledgement has committed, so a read always sees what the previous
 * messages wrote (no lost updates); agents that do not use effects are acknowledged in the
 * background and never wait.
 *
 * <p>Effects outside the journal (an HTTP call, a file, a field of the agent) are not covered: they
 * may run again when a message is redelivered, so make them idempotent, keyed by the message id.
 */
public interface Effects {

  /**
   * The value of {@code key} in this agent's namespace as this handler sees it: its own uncommitted
   * {@link #put}/{@link #delete} first, else the committed value in the journal.
   */
  java.util.Optional<String> get(String key);

  /** Sets {@code key} in this agent's namespace when the acknowledgement commits. */
  Effects put(String key, String value);

  /** Removes {@code key} from this agent's namespace when the acknowledgement commits. */
  Effects delete(String key);

  /** Sends {@code payload} to {@code to}, RELIABLE, when the acknowledgement commits. */
  Effects send(AgentId to, Object payload);
}
