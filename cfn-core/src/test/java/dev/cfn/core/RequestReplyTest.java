package dev.cfn.core;

import static dev.cfn.core.TestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class RequestReplyTest {
  private static final Duration LONG = Duration.ofSeconds(30);

  private static Envelope get(CompletableFuture<Envelope> f) throws Exception {
    return f.get(30, TimeUnit.SECONDS);
  }

  @Test
  void aReplyCompletesTheFuture() throws Exception {
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(AgentType.of("echo", id -> (m, ctx) -> ctx.reply("re:" + m.payload())));
      AgentId echo = AgentId.of("echo", "1");
      Envelope reply = get(rt.request(echo, "hi", LONG));
      assertThat(reply.payload()).isEqualTo("re:hi");
      assertThat(reply.isReply()).isTrue();
      assertThat(reply.sender()).isEqualTo(echo);
      assertThat(reply.recipient()).isEqualTo(AgentRuntime.EXTERNAL);
      assertThat(get(rt.ref(echo).request("again", LONG)).payload()).isEqualTo("re:again");
      assertThat(rt.deadLetters().count()).isZero();
    }
  }

  @Test
  void agentsCanRequestFromEachOther() throws Exception {
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(AgentType.of("echo", id -> (m, ctx) -> ctx.reply("re:" + m.payload())));
      // The asker replies to its own caller once the echo has answered, using reply(request, ..).
      rt.register(
          AgentType.of(
              "asker",
              id ->
                  (m, ctx) -> {
                    Envelope original = m;
                    ctx.request(AgentId.of("echo", "1"), "ping", LONG)
                        .whenComplete(
                            (r, x) -> ctx.reply(original, x == null ? r.payload() : x.toString()));
                  }));
      Envelope reply = get(rt.request(AgentId.of("asker", "1"), "go", LONG));
      assertThat(reply.payload()).isEqualTo("re:ping");
      assertThat(reply.sender()).isEqualTo(AgentId.of("asker", "1"));
    }
  }

  @Test
  void aRequestThatIsNeverAnsweredTimesOut() {
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(AgentType.of("mute", id -> (m, ctx) -> {}));
      CompletableFuture<Envelope> f =
          rt.request(AgentId.of("mute", "1"), "hello?", Duration.ofMillis(200));
      assertThatThrownBy(() -> get(f))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(TimeoutException.class);
    }
  }

  @Test
  void aShortTimeoutOpenedAfterALongOneStillExpiresFirst() {
    // The deadline thread sleeps until the earliest deadline it knows (60 s here); a request
    // with an earlier deadline must wake it, or it would time out only after the long one.
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(AgentType.of("mute", id -> (m, ctx) -> {}));
      CompletableFuture<Envelope> slow =
          rt.request(AgentId.of("mute", "1"), "long", Duration.ofSeconds(60));
      CompletableFuture<Envelope> quick =
          rt.request(AgentId.of("mute", "1"), "short", Duration.ofMillis(100));
      assertThatThrownBy(() -> get(quick))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(TimeoutException.class)
          .cause()
          .hasMessageContaining("within PT0.1S");
      assertThat(slow).isNotDone();
    }
  }

  @Test
  void aRequestToAnUnregisteredTypeFailsAtOnce() {
    try (AgentRuntime rt = TestSupport.runtime()) {
      CompletableFuture<Envelope> f = rt.request(AgentId.of("nobody", "1"), "hello?", LONG);
      // Failing fast: the future is already failed when request returns, long before the timeout.
      assertThat(f).isCompletedExceptionally();
      assertThatThrownBy(f::join)
          .hasCauseInstanceOf(UndeliverableException.class)
          .cause()
          .satisfies(
              c ->
                  assertThat(((UndeliverableException) c).reason())
                      .isEqualTo(DeadLetter.Reason.NO_SUCH_AGENT_TYPE))
          .hasMessageContaining("nobody");
      assertThat(rt.deadLetters().count(DeadLetter.Reason.NO_SUCH_AGENT_TYPE)).isEqualTo(1);
    }
  }

  @Test
  void aRequestWhoseHandlerFailsFailsWithTheReason() {
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.builder(
                  "broken",
                  id ->
                      (m, ctx) -> {
                        throw new IllegalStateException("cannot answer");
                      })
              .supervision(SupervisionStrategy.resume())
              .build());
      CompletableFuture<Envelope> f = rt.request(AgentId.of("broken", "1"), "q", LONG);
      assertThatThrownBy(() -> get(f))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOfSatisfying(
              UndeliverableException.class,
              e -> assertThat(e.reason()).isEqualTo(DeadLetter.Reason.HANDLER_FAILED))
          .hasMessageContaining("cannot answer");
    }
  }

  @Test
  void aReplyAfterTheTimeoutIsALateReplyDeadLetter() {
    AtomicReference<Envelope> held = new AtomicReference<>();
    CountDownLatch replied = new CountDownLatch(1);
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.of(
              "slow",
              id ->
                  (m, ctx) -> {
                    if (m.payload().equals("now")) {
                      ctx.reply(held.get(), "too late");
                      replied.countDown();
                    } else {
                      held.set(m);
                    }
                  }));
      AgentId slow = AgentId.of("slow", "1");
      CompletableFuture<Envelope> f = rt.request(slow, "q", Duration.ofMillis(200));
      assertThatThrownBy(() -> get(f)).hasCauseInstanceOf(TimeoutException.class);
      rt.send(slow, "now");
      await(replied, "late reply sent");
      assertThat(rt.deadLetters().count(DeadLetter.Reason.LATE_REPLY)).isEqualTo(1);
      DeadLetter late = rt.deadLetters().recent().getLast();
      assertThat(late.reason()).isEqualTo(DeadLetter.Reason.LATE_REPLY);
      assertThat(late.envelope().payload()).isEqualTo("too late");
      assertThat(late.envelope().correlationId()).isEqualTo(held.get().id());
    }
  }

  @Test
  void aSecondReplyIsALateReplyDeadLetter() throws Exception {
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.of(
              "twice",
              id ->
                  (m, ctx) -> {
                    ctx.reply("first");
                    ctx.reply("second");
                  }));
      assertThat(get(rt.request(AgentId.of("twice", "1"), "q", LONG)).payload()).isEqualTo("first");
      TestSupport.eventually(
          () -> rt.deadLetters().count(DeadLetter.Reason.LATE_REPLY) == 1, "second reply");
    }
  }

  @Test
  void replyToAMessageThatIsNotARequestThrows() {
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    CountDownLatch done = new CountDownLatch(1);
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.of(
              "replier",
              id ->
                  (m, ctx) -> {
                    try {
                      ctx.reply("answer");
                    } catch (Throwable t) {
                      thrown.set(t);
                    }
                    done.countDown();
                  }));
      rt.send(AgentId.of("replier", "1"), "not a request");
      await(done, "handler ran");
      assertThat(thrown.get())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("is not a request");
      assertThat(rt.deadLetters().count()).isZero();
    }
  }

  @Test
  void replyOutsideAMessageThrows() {
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    CountDownLatch started = new CountDownLatch(1);
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(
          AgentType.of(
              "starter",
              id ->
                  new Agent() {
                    @Override
                    public void onStart(AgentContext ctx) {
                      try {
                        ctx.reply("nothing to reply to");
                      } catch (Throwable t) {
                        thrown.set(t);
                      }
                      started.countDown();
                    }

                    @Override
                    public void onMessage(Envelope m, AgentContext ctx) {}
                  }));
      rt.spawn(AgentId.of("starter", "1"));
      await(started, "onStart ran");
      assertThat(thrown.get())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("only valid while handling a message");
    }
  }

  @Test
  void theTimeoutMustBePositive() {
    try (AgentRuntime rt = TestSupport.runtime()) {
      AgentId to = AgentId.of("echo", "1");
      assertThatThrownBy(() -> rt.request(to, "q", Duration.ZERO))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("timeout must be positive");
      assertThatThrownBy(() -> rt.request(to, "q", Duration.ofMillis(-1)))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> rt.request(to, "q", null))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
