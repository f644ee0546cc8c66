package dev.cfn.core;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * A handle to an agent that skips the id lookup on every send and request. If the agent stops, the
 * next send looks the id up again (and activates a fresh agent when the type is registered), so a
 * ref never goes stale.
 *
 * <p>Who sends: called while a handler of this runtime runs (on the agent's carrier or virtual
 * thread), {@link #tell(Object)} and {@link #request} send as that agent, exactly like the same
 * call on its {@link AgentContext}; called anywhere else they send as {@link
 * AgentRuntime#EXTERNAL}. A ref may be used from any thread.
 */
public final class AgentRef {
  private final Sender external; // the runtime, sending as EXTERNAL
  private final Directory directory;
  private final AgentId id;
  private volatile AgentCell cell;

  AgentRef(Sender external, Directory directory, AgentId id, AgentCell cell) {
    this.external = external;
    this.directory = directory;
    this.id = id;
    this.cell = cell;
  }

  /** The agent's id. */
  public AgentId id() {
    return id;
  }

  AgentCell cell() {
    AgentCell c = cell;
    if (c == null || c.isStopped()) {
      c = directory.cellFor(id);
      cell = c;
    }
    return c;
  }

  /**
   * Sends {@code payload}: as the agent whose handler is running on this thread, if any (see the
   * class comment), else from outside any agent.
   */
  public void tell(Object payload) {
    Sender.current(external).tell(this, payload);
  }

  /**
   * Sends {@code payload} as {@code from}: an agent's context (its agent is the sender) or a
   * runtime (the sender is {@link AgentRuntime#EXTERNAL}).
   */
  public void tell(Object payload, MessageBus from) {
    Objects.requireNonNull(from, "from");
    if (from instanceof Sender s && s.path() == external.path()) {
      s.tell(this, payload);
    } else {
      from.send(id, payload); // a wrapper around a context: let it decide who sends
    }
  }

  /**
   * Sends a request, as the agent whose handler is running on this thread if any, else from outside
   * any agent; see {@link MessageBus#request} for the thread the future completes on.
   */
  public CompletableFuture<Envelope> request(Object payload, Duration timeout) {
    return Sender.current(external).request(this, payload, timeout);
  }

  /** True while the agent this ref points at is live. */
  public boolean isAlive() {
    AgentCell c = cell;
    return c != null && !c.isStopped();
  }

  /** The agent's counters, or zeros if it is not live. */
  public AgentMetrics metrics() {
    AgentCell c = cell;
    return c == null ? new AgentMetrics(0, 0, 0, 0) : c.metrics();
  }

  @Override
  public String toString() {
    return "AgentRef[" + id + "]";
  }
}
