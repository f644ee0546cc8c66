package dev.cfn.core;

import java.time.Instant;

/**
 * Published on the system topics {@code cfn.agent.started}, {@code cfn.agent.restarted}, {@code
 * cfn.agent.stopped} and {@code cfn.agent.failed}, with the agent's id as the topic source.
 * Subscribe with the pattern {@code cfn.agent.#} to see them all.
 *
 * @param agent the agent concerned
 * @param kind what happened
 * @param detail the cause of a failure or stop, or empty
 * @param at when it happened
 */
public record LifecycleEvent(AgentId agent, Kind kind, String detail, Instant at) {

  /** What happened to the agent. */
  public enum Kind {
    /** Spawned (explicitly or lazily). */
    STARTED,
    /** Replaced by a fresh instance after a failure. */
    RESTARTED,
    /** Stopped for good. */
    STOPPED,
    /** A handler threw. */
    FAILED;

    /** The topic type this kind is published on. */
    public String topic() {
      return "cfn.agent." + name().toLowerCase(java.util.Locale.ROOT);
    }
  }
}
