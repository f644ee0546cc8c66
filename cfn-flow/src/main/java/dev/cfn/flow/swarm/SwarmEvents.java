package dev.cfn.flow.swarm;

import dev.cfn.core.AgentRuntime;
import dev.cfn.core.MessageBus;
import dev.cfn.core.TopicId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes a swarm's {@link SwarmEvent}s: asks the runtime first whether anyone subscribes to the
 * event's topic (one cached lookup), so that a swarm nobody watches builds no event, and never lets
 * a publication that fails (the runtime shutting down) disturb what the swarm was doing: a refusal
 * is published from inside the bus's route stage, a round's end from its collector's turn.
 */
final class SwarmEvents {
  private static final Logger log = LoggerFactory.getLogger(SwarmEvents.class);

  private final AgentRuntime runtime;

  SwarmEvents(AgentRuntime runtime) {
    this.runtime = runtime;
  }

  /** True when a publication on {@code topic} would reach a subscriber now. */
  boolean listened(String topic) {
    return runtime.hasSubscribers(topic);
  }

  /** Publishes {@code event} through {@code bus} (the runtime, or a round collector's context). */
  void publish(MessageBus bus, SwarmEvent event) {
    try {
      bus.publish(TopicId.of(event.topic(), event.swarm()), event);
    } catch (RuntimeException ex) {
      log.debug(
          "swarm {}: event {} not published: {}", event.swarm(), event.topic(), ex.toString());
    }
  }
}
