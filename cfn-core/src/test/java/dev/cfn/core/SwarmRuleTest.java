package dev.cfn.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

/** The {@link SwarmRule} hook: enforced between members only, on every verb, at run time. */
class SwarmRuleTest {
  /**
   * What a member is told to do, from outside: send {@code payload} to {@code to} by {@code how}.
   */
  record Order(String how, AgentId to) {}

  private static final AgentId A = AgentId.of("m", "a");
  private static final AgentId B = AgentId.of("m", "b");
  private static final AgentId C = AgentId.of("m", "c");

  /** Each member obeys orders and records what it received and what its sends threw. */
  private static AgentType members(
      ConcurrentLinkedQueue<String> received, ConcurrentLinkedQueue<Throwable> refused) {
    return AgentType.of(
        "m",
        id ->
            (m, ctx) -> {
              if (m.payload() instanceof Order o) {
                try {
                  switch (o.how()) {
                    case "send" -> ctx.send(o.to(), "hi");
                    case "request" ->
                        ctx.request(o.to(), "q", Duration.ofSeconds(30))
                            .whenComplete((r, ex) -> refused.add(ex == null ? new Error() : ex));
                    case "broadcast" -> ctx.broadcastToSwarm("s", "all");
                    default -> throw new IllegalArgumentException(o.how());
                  }
                } catch (SwarmRuleException ex) {
                  refused.add(ex);
                }
              } else {
                received.add(ctx.self().key() + "<-" + m.sender().key() + ":" + m.payload());
                if (m.isRequest()) {
                  ctx.reply("r");
                }
              }
            });
  }

  @Test
  void aRuleRefusesBetweenMembersAndOnlyThere() {
    ConcurrentLinkedQueue<String> received = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<Throwable> refused = new ConcurrentLinkedQueue<>();
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(members(received, refused));
      rt.spawn(A, "s");
      rt.spawn(B, "s");
      rt.spawn(C); // not a member
      rt.enforce("s", (from, to) -> to.equals(B) ? "b takes no mail" : null);

      rt.send(A, new Order("send", B)); // refused
      rt.send(A, new Order("send", C)); // C is outside the swarm: allowed
      rt.send(B, "from outside"); // the runtime is outside the swarm: allowed
      rt.send(A, new Order("request", B)); // the future fails with the refusal
      TestSupport.eventually(() -> refused.size() == 2 && received.size() == 2, "two refusals");

      assertThat(received).containsExactlyInAnyOrder("c<-a:hi", "b<-caller:from outside");
      assertThat(refused)
          .allSatisfy(
              ex ->
                  assertThat(ex)
                      .isInstanceOf(SwarmRuleException.class)
                      .hasMessageContaining("swarm 's' refused the message from m/a to m/b")
                      .hasMessageContaining("b takes no mail"));
    }
  }

  @Test
  void joinLeaveAndBroadcastFollowTheRule() {
    ConcurrentLinkedQueue<String> received = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<Throwable> refused = new ConcurrentLinkedQueue<>();
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(members(received, refused));
      rt.spawn(A, "s");
      rt.spawn(B);
      rt.spawn(C);
      rt.enforce("s", (from, to) -> to.equals(C) ? "no mail for c" : null);
      rt.joinSwarm(B, "s");
      rt.joinSwarm(C, "s");
      assertThatThrownBy(() -> rt.joinSwarm(C, "other"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("leave 's' first");
      assertThatThrownBy(() -> rt.joinSwarm(AgentId.of("m", "ghost"), "s"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("not live");

      // a broadcast reaches the members the rule allows, then reports the refusal
      rt.send(A, new Order("broadcast", null));
      TestSupport.eventually(() -> refused.size() == 1, "broadcast refusal");
      TestSupport.eventually(() -> received.size() == 2, "broadcast delivered");
      assertThat(received).containsExactlyInAnyOrder("a<-a:all", "b<-a:all");

      // C leaves: it is outside the swarm, so the rule no longer applies
      assertThat(rt.leaveSwarm(C)).isTrue();
      assertThat(rt.leaveSwarm(C)).isFalse();
      rt.send(A, new Order("send", C));
      TestSupport.eventually(() -> received.contains("c<-a:hi"), "c reached after leaving");
      assertThat(refused).hasSize(1);

      // removing the rule lets everything through
      rt.joinSwarm(C, "s");
      rt.enforce("s", null);
      rt.send(A, new Order("send", C));
      TestSupport.eventually(
          () -> received.stream().filter("c<-a:hi"::equals).count() == 2, "no rule, no refusal");
      assertThat(refused).hasSize(1);
    }
  }

  @Test
  void reliableMessagesAreCheckedBeforeTheyAreJournaled() {
    InMemoryJournal journal = new InMemoryJournal();
    ConcurrentLinkedQueue<Throwable> refused = new ConcurrentLinkedQueue<>();
    try (AgentRuntime rt = TestSupport.builder().journal(journal).build()) {
      rt.register(
          AgentType.of(
              "m",
              id ->
                  (m, ctx) -> {
                    try {
                      if ("go".equals(m.payload())) {
                        ctx.send(Envelope.to(B).delivery(DeliveryMode.RELIABLE).payload("x"));
                      } else if ("outbox".equals(m.payload())) {
                        ctx.effects().send(B, "x");
                      }
                    } catch (SwarmRuleException ex) {
                      refused.add(ex);
                    }
                  }));
      rt.spawn(A, "s");
      rt.spawn(B, "s");
      rt.enforce("s", (from, to) -> "nothing passes");
      rt.send(A, "go");
      rt.send(Envelope.to(A).delivery(DeliveryMode.RELIABLE).payload("outbox"));
      TestSupport.eventually(() -> refused.size() == 2, "reliable and outbox refusals");
      assertThat(List.copyOf(refused))
          .allSatisfy(ex -> assertThat(ex).hasMessageContaining("nothing passes"));
      TestSupport.eventually(() -> journal.recover().isEmpty(), "the outbox message acknowledged");
      assertThat(journal.recover()).as("nothing for B journaled").isEmpty();
    }
  }
}
