package dev.cfn.core;

import dev.cfn.core.spi.Effect;
import dev.cfn.core.spi.Journal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Collects what one handler invocation of a RELIABLE message wants committed with its
 * acknowledgement. Lives for one invocation, on the agent's thread.
 */
final class EffectsBuffer implements Effects {
  private final AgentId agent;
  private final Journal journal;
  private final Ids ids;
  private final SwarmRules swarmRules;
  private final List<Effect> effects = new ArrayList<>(2);
  private boolean used; // any call, reads included

  EffectsBuffer(AgentId agent, Journal journal, Ids ids, SwarmRules swarmRules) {
    this.agent = agent;
    this.swarmRules = swarmRules;
    this.journal = journal;
    this.ids = ids;
  }

  @Override
  public java.util.Optional<String> get(String key) {
    Objects.requireNonNull(key, "key");
    used = true;
    for (int i = effects.size() - 1; i >= 0; i--) {
      Effect e = effects.get(i);
      if (e instanceof Effect.Put p && p.key().equals(key)) {
        return java.util.Optional.of(p.value());
      }
      if (e instanceof Effect.Delete d && d.key().equals(key)) {
        return java.util.Optional.empty();
      }
    }
    return journal.state(agent.toString(), key);
  }

  @Override
  public Effects put(String key, String value) {
    used = true;
    effects.add(new Effect.Put(agent.toString(), key, value));
    return this;
  }

  @Override
  public Effects delete(String key) {
    used = true;
    effects.add(new Effect.Delete(agent.toString(), key));
    return this;
  }

  @Override
  public Effects send(AgentId to, Object payload) {
    used = true;
    Objects.requireNonNull(to, "to");
    Envelope e =
        new Envelope(
            ids.nextReliable(),
            payload == null ? "null" : payload.getClass().getName(),
            agent,
            to,
            null,
            0,
            Priority.NORMAL,
            DeliveryMode.RELIABLE,
            Map.of(),
            payload,
            System.nanoTime());
    swarmRules.checkReliable(e); // refused now, in the handler, rather than after the commit
    effects.add(new Effect.Send(e));
    return this;
  }

  /**
   * Adds {@code message} (built by the runtime: a reply to the RELIABLE request being handled) to
   * the outbox. It does not count as use: a reply reads no state, so the agent need not wait for
   * the commit before its next message.
   */
  void outbox(Envelope message) {
    effects.add(new Effect.Send(message));
  }

  List<Effect> effects() {
    return effects;
  }

  /** True when the handler read or wrote state or sent through the outbox. */
  boolean used() {
    return used;
  }
}
