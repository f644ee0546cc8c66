package dev.cfn.core;

import static dev.cfn.core.TestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Forwarding a request along a chain, and the precondition {@code reply} checks. */
class ForwardTest {
  private static final Duration LONG = Duration.ofSeconds(30);

  private static Envelope get(CompletableFuture<Envelope> f) throws Exception {
    return f.get(30, TimeUnit.SECONDS);
  }

  @Test
  void aForwardedRequestIsAnsweredByTheLastAgentOfTheChain() throws Exception {
    List<AgentId> seenSenders = new CopyOnWriteArrayList<>();
    try (AgentRuntime rt = TestSupport.runtime()) {
      // step-1 -> step-2 -> step-3; only the last one replies, to the original requester.
      rt.register(
          AgentType.of(
              "step",
              id ->
                  (m, ctx) -> {
                    seenSenders.add(m.sender());
                    assertThat(m.isRequest()).isTrue();
                    int n = Integer.parseInt(id.key());
                    if (n < 3) {
                      ctx.forward(m, AgentId.of("step", Integer.toString(n + 1)));
                    } else {
                      ctx.reply(m.payload() + " answered by " + ctx.self());
                    }
                  }));
      CompletableFuture<Envelope> f = rt.request(AgentId.of("step", "1"), "q", LONG);
      Envelope reply = get(f);
      assertThat(reply.payload()).isEqualTo("q answered by step/3");
      assertThat(reply.sender()).isEqualTo(AgentId.of("step", "3"));
      assertThat(reply.recipient()).isEqualTo(AgentRuntime.EXTERNAL);
      // The original requester stays the sender all along the chain, as in Pekko's forward.
      assertThat(seenSenders).containsOnly(AgentRuntime.EXTERNAL).hasSize(3);
      assertThat(rt.deadLetters().count()).isZero();
    }
  }

  @Test
  void replyingToARequestDeliveredToAnotherAgentIsRefusedWithTheFix() throws Exception {
    // The attack: the request envelope is smuggled to another agent in a payload and answered
    // there.
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    CountDownLatch tried = new CountDownLatch(1);
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.of(
              "front", id -> (m, ctx) -> ctx.send(AgentId.of("back", "1"), new Object[] {m})));
      rt.register(
          AgentType.of(
              "back",
              id ->
                  (m, ctx) -> {
                    Envelope smuggled = (Envelope) ((Object[]) m.payload())[0];
                    try {
                      ctx.reply(smuggled, "answer");
                    } catch (Throwable t) {
                      thrown.set(t);
                    }
                    tried.countDown();
                  }));
      CompletableFuture<Envelope> f =
          rt.request(AgentId.of("front", "1"), "q", Duration.ofSeconds(30));
      await(tried, "back tried to reply");
      assertThat(thrown.get())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("cannot reply to request")
          .hasMessageContaining("it was delivered to front/1")
          .hasMessageContaining("fix: ");
      assertThat(f).isNotDone();
    }
  }

  @Test
  void reliableMessagesAndRepliesCannotBeForwarded() throws Exception {
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(AgentType.of("echo", id -> (m, ctx) -> ctx.reply(m.payload())));
      Envelope reliable =
          new Envelope(
              7,
              "t",
              AgentRuntime.EXTERNAL,
              AgentId.of("echo", "1"),
              null,
              0,
              Priority.NORMAL,
              DeliveryMode.RELIABLE,
              Map.of(),
              "x",
              System.nanoTime());
      assertThatThrownBy(() -> rt.forward(reliable, AgentId.of("echo", "2")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("cannot be forwarded")
          .hasMessageContaining("fix: ");
      Envelope reply = get(rt.request(AgentId.of("echo", "1"), "hi", LONG));
      assertThat(reply.isReply()).isTrue();
      assertThat(reply.isRequest()).isFalse();
      assertThatThrownBy(() -> rt.forward(reply, AgentId.of("echo", "2")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("is a reply");
    }
  }

  @Test
  void isRequestTellsRequestsFromOtherMessages() throws Exception {
    List<Envelope> seen = new CopyOnWriteArrayList<>();
    CountDownLatch two = new CountDownLatch(2);
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.of(
              "probe",
              id ->
                  (m, ctx) -> {
                    seen.add(m);
                    if (m.isRequest()) {
                      ctx.reply("ok");
                    }
                    two.countDown();
                  }));
      AgentId probe = AgentId.of("probe", "1");
      rt.send(probe, "plain");
      get(rt.request(probe, "asked", LONG));
      await(two, "both messages handled");
      assertThat(seen)
          .filteredOn(Envelope::isRequest)
          .extracting(Envelope::payload)
          .containsExactly("asked");
    }
  }

  @Test
  void aRequestCallbackMayReplyAndMessageItsAgentFromTheReplierThread() throws Exception {
    // The threading contract: the future completes on the replier's thread; from there the
    // asking agent's context may reply to its own request and send the agent a message.
    List<String> handledOnTurn = new CopyOnWriteArrayList<>();
    CountDownLatch resultHandled = new CountDownLatch(1);
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(AgentType.of("echo", id -> (m, ctx) -> ctx.reply("re:" + m.payload())));
      rt.register(
          AgentType.of(
              "asker",
              id ->
                  (m, ctx) -> {
                    if (m.isRequest()) {
                      ctx.request(AgentId.of("echo", "1"), "ping", LONG)
                          .thenAccept(
                              r -> {
                                ctx.send(ctx.self(), "result " + r.payload());
                                ctx.reply(m, r.payload());
                              });
                    } else {
                      handledOnTurn.add((String) m.payload());
                      resultHandled.countDown();
                    }
                  }));
      assertThat(get(rt.request(AgentId.of("asker", "1"), "go", LONG)).payload())
          .isEqualTo("re:ping");
      await(resultHandled, "the result message");
      assertThat(handledOnTurn).containsExactly("result re:ping");
    }
  }
}
