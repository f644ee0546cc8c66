package dev.cfn.core;

import dev.cfn.core.spi.BufferedEffects;
import dev.cfn.core.spi.Journal;

/**
 * The kernel's {@link BufferedEffects}: what one handler invocation of a RELIABLE message wants
 * committed with its acknowledgement. Lives for one invocation, on the agent's thread. Outgoing
 * messages take their ids from the runtime's {@link Ids} and are checked against the swarm rules
 * when the handler sends them.
 */
final class EffectsBuffer extends BufferedEffects {
  private final Ids ids;
  private final SwarmRules swarmRules;

  // Whether the message being handled reaches a handler for the first time (set by Invoke before
  // each handler of a batch runs; read on the same thread, during that handler).
  boolean firstDelivery;

  EffectsBuffer(AgentId agent, Journal journal, Ids ids, SwarmRules swarmRules) {
    super(agent, journal);
    this.ids = ids;
    this.swarmRules = swarmRules;
  }

  @Override
  protected long nextMessageId() {
    return ids.nextReliable();
  }

  @Override
  protected void checkOutgoing(Envelope message) {
    swarmRules.checkReliable(message);
  }

  @Override
  public boolean firstDelivery() {
    return firstDelivery;
  }

  /**
   * These effects will not be committed (the handler threw, a send failed, the acknowledgement's
   * commit failed or applied nothing): runs the actions given to {@link #whenDiscarded}, once.
   * Called by the runtime on every such path, on the thread that learns of it.
   */
  void discarded() {
    runDiscardedActions();
  }
}
