package dev.cfn.core;

/**
 * A live subscription: publications whose topic type matches {@link #pattern()} are delivered to
 * agents of {@link #agentType()} (keyed by the topic source) or to one fixed agent. Close it to
 * unsubscribe.
 *
 * <p>Patterns are dot-separated: {@code *} matches exactly one segment, {@code #} zero or more
 * ({@code swarm.*.status}, {@code tasks.#}).
 */
public interface Subscription extends AutoCloseable {

  /** The topic pattern. */
  String pattern();

  /** The subscribed agent type, or {@code null} for a fixed-agent subscription. */
  String agentType();

  /** The fixed subscribed agent, or {@code null} for a type subscription. */
  AgentId agent();

  /** Removes the subscription; idempotent. */
  @Override
  void close();
}
