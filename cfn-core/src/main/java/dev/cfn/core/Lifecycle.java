package dev.cfn.core;

import java.time.Instant;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the runtime's lifecycle events (started, failed, restarted, stopped) on the {@code
 * cfn.lifecycle.*} topics, from {@link AgentRuntime#SYSTEM}, when anything subscribes to them.
 *
 * <p>The one back edge of the message path: an event re-enters the path at {@link Route}, whose
 * stages themselves start and stop agents. So the route is bound once after the stages are built
 * ({@link #bind}) instead of being a constructor argument.
 */
final class Lifecycle {
  private static final Logger log = LoggerFactory.getLogger(Lifecycle.class);
  private final TopicRouter router;
  private final Ids ids;
  private Route route;

  Lifecycle(TopicRouter router, Ids ids) {
    this.router = router;
    this.ids = ids;
  }

  void bind(Route route) {
    this.route = route;
  }

  void publish(AgentId agent, LifecycleEvent.Kind kind, String detail) {
    String topic = kind.topic();
    if (router.match(topic).length == 0) {
      return;
    }
    LifecycleEvent event = new LifecycleEvent(agent, kind, detail, Instant.now());
    try {
      route.publish(
          new Envelope(
              ids.next(),
              LifecycleEvent.class.getName(),
              AgentRuntime.SYSTEM,
              null,
              new TopicId(topic, agent.toString()),
              0,
              Priority.NORMAL,
              DeliveryMode.BEST_EFFORT,
              Map.of(),
              event,
              System.nanoTime()),
          true);
    } catch (RuntimeException ex) {
      log.warn("could not publish {} event for {}: {}", kind, agent, ex.toString());
    }
  }
}
