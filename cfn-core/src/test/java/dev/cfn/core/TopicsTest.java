package dev.cfn.core;

import static dev.cfn.core.TestSupport.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Publish/subscribe through the runtime, including the lifecycle topics. */
class TopicsTest {

  /** Records "self topic payload" (or "self direct payload") for everything it receives. */
  private static AgentType recorder(String type, List<String> got) {
    return AgentType.of(
        type,
        id ->
            (m, ctx) ->
                got.add(
                    ctx.self()
                        + " "
                        + (m.topic() == null ? "direct" : m.topic().toString())
                        + " "
                        + m.payload()));
  }

  @Test
  void aTypeSubscriptionDeliversToTheAgentKeyedByTheTopicSource() {
    List<String> got = Collections.synchronizedList(new ArrayList<>());
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(recorder("orders", got));
      Subscription sub = rt.subscribe("orders.#", "orders");
      assertThat(sub.pattern()).isEqualTo("orders.#");
      assertThat(sub.agentType()).isEqualTo("orders");
      assertThat(sub.agent()).isNull();
      rt.publish(TopicId.of("orders.created", "acme"), "o1");
      rt.publish(TopicId.of("orders.paid", "globex"), "o2");
      rt.publish(TopicId.of("orders.paid", "acme"), "o3");
      eventually(() -> got.size() == 3, "three publications");
      assertThat(got)
          .containsExactlyInAnyOrder(
              "orders/acme orders.created@acme o1",
              "orders/globex orders.paid@globex o2",
              "orders/acme orders.paid@acme o3");
      assertThat(rt.liveAgents()).as("activated on demand").isEqualTo(2);
    }
  }

  @Test
  void starMatchesExactlyOneSegment() {
    List<String> got = Collections.synchronizedList(new ArrayList<>());
    AgentId watcher = AgentId.of("watch", "1");
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(recorder("watch", got));
      rt.subscribe("swarm.*.status", watcher);
      rt.publish(TopicId.of("swarm.a.status", "s"), "one-level");
      rt.publish(TopicId.of("swarm.a.b.status", "s"), "two-levels");
      rt.publish(TopicId.of("swarm.status", "s"), "no-level");
      assertThat(rt.deadLetters().count(DeadLetter.Reason.NO_SUBSCRIBERS)).isEqualTo(2);
      rt.send(watcher, "marker"); // same sender: arrives after anything published before it
      eventually(() -> got.size() == 2, "publication and marker");
      assertThat(got)
          .containsExactly("watch/1 swarm.a.status@s one-level", "watch/1 direct marker");
    }
  }

  @Test
  void hashMatchesZeroOrMoreSegments() {
    List<String> got = Collections.synchronizedList(new ArrayList<>());
    AgentId watcher = AgentId.of("watch", "1");
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(recorder("watch", got));
      rt.subscribe("tasks.#", watcher);
      rt.publish(TopicId.of("tasks", "s"), "zero");
      rt.publish(TopicId.of("tasks.a", "s"), "one");
      rt.publish(TopicId.of("tasks.a.b", "s"), "two");
      rt.publish(TopicId.of("tasksx", "s"), "other");
      rt.send(watcher, "marker");
      eventually(() -> got.size() == 4, "publications and marker");
      assertThat(got)
          .containsExactly(
              "watch/1 tasks@s zero",
              "watch/1 tasks.a@s one",
              "watch/1 tasks.a.b@s two",
              "watch/1 direct marker");
      assertThat(rt.deadLetters().count(DeadLetter.Reason.NO_SUBSCRIBERS)).isEqualTo(1);
    }
  }

  @Test
  void closingASubscriptionStopsDelivery() {
    List<String> got = Collections.synchronizedList(new ArrayList<>());
    AgentId watcher = AgentId.of("watch", "1");
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(recorder("watch", got));
      Subscription sub = rt.subscribe("news", watcher);
      assertThat(rt.subscriptions()).containsExactly(sub);
      rt.publish(TopicId.of("news", "s"), "before");
      sub.close();
      sub.close(); // idempotent
      assertThat(rt.subscriptions()).isEmpty();
      rt.publish(TopicId.of("news", "s"), "after");
      assertThat(rt.deadLetters().count(DeadLetter.Reason.NO_SUBSCRIBERS)).isEqualTo(1);
      rt.send(watcher, "marker");
      eventually(() -> got.size() == 2, "publication and marker");
      assertThat(got).containsExactly("watch/1 news@s before", "watch/1 direct marker");
    }
  }

  @Test
  void everyMatchingSubscriptionReceivesAPublication() {
    List<String> got = Collections.synchronizedList(new ArrayList<>());
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(recorder("a", got));
      rt.register(recorder("b", got));
      rt.subscribe("x.*", "a");
      rt.subscribe("x.#", AgentId.of("b", "fixed"));
      rt.subscribe("y", "b");
      rt.publish(TopicId.of("x.1", "src"), "p");
      eventually(() -> got.size() == 2, "both subscribers");
      assertThat(got).containsExactlyInAnyOrder("a/src x.1@src p", "b/fixed x.1@src p");
    }
  }

  @Test
  void aPublicationWithNoSubscriberIsADeadLetter() {
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.publish(TopicId.of("nobody.listens", "s"), "hello");
      assertThat(rt.deadLetters().count(DeadLetter.Reason.NO_SUBSCRIBERS)).isEqualTo(1);
      DeadLetter d = rt.deadLetters().recent().getFirst();
      assertThat(d.envelope().topic()).isEqualTo(TopicId.of("nobody.listens", "s"));
      assertThat(d.detail()).contains("nobody.listens");
      // The runtime's own topics are not dead-lettered when nobody listens.
      rt.publish(TopicId.of("cfn.agent.started", "s"), "quiet");
      assertThat(rt.deadLetters().count()).isEqualTo(1);
    }
  }

  @Test
  void agentsPublishUnderTheirOwnId() {
    List<String> got = Collections.synchronizedList(new ArrayList<>());
    List<AgentId> senders = Collections.synchronizedList(new ArrayList<>());
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.of(
              "listener",
              id ->
                  (m, ctx) -> {
                    senders.add(m.sender());
                    got.add(m.payload(String.class));
                  }));
      rt.register(
          AgentType.of(
              "speaker", id -> (m, ctx) -> ctx.publish(TopicId.of("talk", "room"), "hello")));
      rt.subscribe("talk", "listener");
      rt.send(AgentId.of("speaker", "1"), "go");
      eventually(() -> got.size() == 1, "publication");
      assertThat(got).containsExactly("hello");
      assertThat(senders).containsExactly(AgentId.of("speaker", "1"));
    }
  }

  @Test
  void badPatternsAndTypesAreRejected() {
    try (AgentRuntime rt = TestSupport.runtime()) {
      assertThatThrownBy(() -> rt.subscribe("a..b", "w"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("empty segment");
      assertThatThrownBy(() -> rt.subscribe("a.b", "1w"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("badly formed");
      assertThat(rt.subscriptions()).isEmpty();
    }
  }

  @Test
  void hasSubscribersFollowsTheSubscriptions() {
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(AgentType.of("w", id -> (m, ctx) -> {}));
      assertThat(rt.hasSubscribers("cfn.flow.task.queued")).isFalse();
      Subscription sub = rt.subscribe("cfn.flow.#", AgentId.of("w", "1"));
      assertThat(rt.hasSubscribers("cfn.flow.task.queued")).isTrue();
      assertThat(rt.hasSubscribers("cfn.agent.started")).isFalse();
      sub.close();
      assertThat(rt.hasSubscribers("cfn.flow.task.queued")).isFalse();
    }
  }

  @Test
  void lifecycleEventsArePublishedWithTheAgentIdAsSource() {
    List<LifecycleEvent> events = Collections.synchronizedList(new ArrayList<>());
    List<TopicId> topics = Collections.synchronizedList(new ArrayList<>());
    AgentId watched = AgentId.of("worker", "1");
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.of(
              "watcher",
              id ->
                  (m, ctx) -> {
                    LifecycleEvent e = m.payload(LifecycleEvent.class);
                    if (e.agent().equals(watched)) {
                      topics.add(m.topic());
                      events.add(e);
                    }
                  }));
      rt.register(AgentType.of("worker", id -> (m, ctx) -> {}));
      rt.subscribe("cfn.agent.#", AgentId.of("watcher", "1"));
      rt.spawn(watched);
      rt.stop(watched);
      eventually(() -> events.size() == 2, "started and stopped events");
      assertThat(events)
          .extracting(LifecycleEvent::kind)
          .containsExactly(LifecycleEvent.Kind.STARTED, LifecycleEvent.Kind.STOPPED);
      assertThat(events.get(1).detail()).contains("stopped by the runtime");
      assertThat(topics)
          .containsExactly(
              TopicId.of("cfn.agent.started", "worker/1"),
              TopicId.of("cfn.agent.stopped", "worker/1"));
    }
  }
}
