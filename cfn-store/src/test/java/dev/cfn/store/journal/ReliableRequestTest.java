package dev.cfn.store.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RELIABLE requests on SQLite: the reply is journaled with the request's acknowledgement, survives
 * the runtime going away, and reaches an external caller (by key or by id) or an agent requester
 * (as a RELIABLE message) after the restart; headers travel with the request.
 */
class ReliableRequestTest {
  static final AgentId SERVICE = AgentId.of("service", "1");
  static final Duration LONG = Duration.ofSeconds(60);

  @TempDir Path dir;

  SqliteJournal journal() {
    return SqliteJournal.builder(dir.resolve("cfn.db")).open();
  }

  static Envelope.Builder reliable(AgentId to, Object payload) {
    return Envelope.to(to).delivery(DeliveryMode.RELIABLE).payload(payload);
  }

  static AgentType service(List<Long> handled) {
    return AgentType.of(
        "service",
        id ->
            (m, ctx) -> {
              handled.add(m.id());
              ctx.reply("re:" + m.payload() + "/" + m.headers().getOrDefault("tenant", "-"));
            });
  }

  @Test
  void anExternalRequestersReplySurvivesTheRestart() throws Exception {
    long requestId;
    try (AgentRuntime first = AgentRuntime.builder().carriers(1).journal(journal()).build()) {
      CompletableFuture<Envelope> f =
          first.request(
              reliable(SERVICE, "q").headers(Map.of("tenant", "acme")).idempotencyKey("job-1"),
              Duration.ofMillis(50));
      assertThatThrownBy(() -> f.get(30, TimeUnit.SECONDS))
          .hasCauseInstanceOf(TimeoutException.class);
      assertThat(first.pendingCount()).isEqualTo(1);
    }
    try (SqliteJournal j = journal()) {
      requestId = j.idempotencyKeyId("job-1").orElseThrow();
      assertThat(j.recover().getFirst().envelope().isRequest()).isTrue();
    }
    List<Long> handled = new CopyOnWriteArrayList<>();
    try (AgentRuntime second =
        AgentRuntime.builder().carriers(1).journal(journal()).register(service(handled)).build()) {
      assertThat(second.awaitDrained(LONG)).isTrue();
      assertThat(second.unclaimedReplies()).isEqualTo(1);
    }
    // the reply is still held after a second restart, pending in the journal until claimed
    try (AgentRuntime third =
        AgentRuntime.builder().carriers(1).journal(journal()).register(service(handled)).build()) {
      Envelope reply = third.awaitReply(requestId, LONG).get(30, TimeUnit.SECONDS);
      assertThat(reply.payload()).isEqualTo("re:q/acme");
      assertThat(reply.isReply()).isTrue();
      assertThat(reply.correlationId()).isEqualTo(requestId);
      assertThat(third.awaitDrained(LONG)).isTrue();
    }
    assertThat(handled).containsExactly(requestId);
    try (SqliteJournal j = journal()) {
      assertThat(j.recover()).as("request and reply acknowledged").isEmpty();
    }
  }

  @Test
  void anAgentRequesterGetsTheReplyAsAReliableMessageAfterTheRestart() throws Exception {
    AgentId asker = AgentId.of("asker", "1");
    List<Envelope> replies = new CopyOnWriteArrayList<>();
    AgentType askerType =
        AgentType.of(
            "asker",
            id ->
                (m, ctx) -> {
                  if (m.isReply()) {
                    replies.add(m);
                  } else {
                    ctx.request(reliable(SERVICE, m.payload()), Duration.ofMillis(50));
                  }
                });
    SqliteJournal journal = journal();
    try (AgentRuntime first =
        AgentRuntime.builder().carriers(1).journal(journal).register(askerType).build()) {
      first.send(reliable(asker, "question"));
      // the request journaled and the question acknowledged: only the request is left
      ReliableRuntimeTest.eventually(
          () ->
              first.pendingCount() == 1
                  && journal.recover().stream().anyMatch(e -> e.envelope().isRequest()),
          "only the request left");
    }
    List<Long> handled = new CopyOnWriteArrayList<>();
    try (AgentRuntime second =
        AgentRuntime.builder()
            .carriers(1)
            .journal(journal())
            .register(askerType)
            .register(service(handled))
            .build()) {
      assertThat(second.awaitDrained(LONG)).isTrue();
    }
    assertThat(replies).hasSize(1);
    assertThat(replies.getFirst().payload()).isEqualTo("re:question/-");
    assertThat(replies.getFirst().delivery()).isEqualTo(DeliveryMode.RELIABLE);
    assertThat(replies.getFirst().correlationId()).isEqualTo(handled.getFirst());
    try (SqliteJournal j = journal()) {
      assertThat(j.recover()).isEmpty();
    }
  }
}
