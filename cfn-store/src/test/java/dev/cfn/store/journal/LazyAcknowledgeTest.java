package dev.cfn.store.journal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.Envelope;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SqliteJournal#acknowledgeLazily}: the acknowledgement of a claimed reply joins the next
 * transaction instead of committing on its own, commits alone when nothing else comes, is committed
 * by a close, and until it commits the reply stays pending, so a crash between the handler's commit
 * (which journaled the reply) and the claim loses nothing and repeats no handler.
 */
class LazyAcknowledgeTest {
  static final AgentId SERVICE = ReliableRequestTest.SERVICE;
  static final Duration LONG = Duration.ofSeconds(60);

  @TempDir Path dir;

  SqliteJournal journal(Path file) {
    return SqliteJournal.builder(file).open();
  }

  static Envelope message(long id) {
    return Fixtures.message(id, "m" + id);
  }

  @Test
  void aLazyAcknowledgementCommitsAloneWhenNoOtherWriteComes() throws Exception {
    Path file = dir.resolve("cfn.db");
    try (SqliteJournal j = journal(file)) {
      j.append(message(1));
      assertThat(j.acknowledgeLazily(message(1)).get(60, TimeUnit.SECONDS)).isTrue();
      assertThat(j.isAcknowledged(1)).isTrue();
      assertThat(j.lazyWrites()).isEqualTo(1);
      assertThat(j.lazyAloneBatches()).isEqualTo(1);
      // acknowledged before: not applied again, lazily or not
      assertThat(j.acknowledgeLazily(message(1)).get(60, TimeUnit.SECONDS)).isFalse();
    }
    try (SqliteJournal j = journal(file)) {
      assertThat(j.recover()).isEmpty();
    }
  }

  @Test
  void closeCommitsTheLazyAcknowledgementsStillWaiting() throws Exception {
    Path file = dir.resolve("cfn.db");
    List<CompletableFuture<Boolean>> acks = new ArrayList<>();
    try (SqliteJournal j = journal(file)) {
      for (long id = 1; id <= 2_000; id++) { // more than one batch holds
        j.append(message(id));
      }
      for (long id = 1; id <= 2_000; id++) {
        acks.add(j.acknowledgeLazily(message(id)));
      }
    }
    for (CompletableFuture<Boolean> ack : acks) {
      assertThat(ack).isCompletedWithValue(true);
    }
    try (SqliteJournal j = journal(file)) {
      assertThat(j.recover()).isEmpty();
      assertThat(j.acknowledgeLazily(message(2_001)))
          .as("a lazy acknowledgement of a message never stored applies nothing")
          .succeedsWithin(LONG)
          .isEqualTo(true);
      assertThat(j.recover()).isEmpty();
    }
  }

  @Test
  void lazyAcknowledgementsJoinOtherWritesUnderLoad() throws Exception {
    Path file = dir.resolve("cfn.db");
    List<Long> handled = new CopyOnWriteArrayList<>();
    int requests = 400;
    try (SqliteJournal j = journal(file);
        AgentRuntime rt =
            AgentRuntime.builder()
                .journal(j)
                .register(ReliableRequestTest.service(handled))
                .build()) {
      List<CompletableFuture<Envelope>> replies = new ArrayList<>();
      for (int i = 0; i < requests; i++) {
        replies.add(rt.request(ReliableRequestTest.reliable(SERVICE, "q" + i), LONG));
      }
      for (int i = 0; i < requests; i++) {
        assertThat(replies.get(i).get(60, TimeUnit.SECONDS).payload()).isEqualTo("re:q" + i + "/-");
      }
      assertThat(rt.awaitDrained(LONG)).isTrue();
      assertThat(rt.pendingCount()).isZero();
      // every claim was lazy; with 400 requests in flight, they shared transactions with others
      assertThat(j.lazyWrites()).isEqualTo(requests);
      assertThat(j.lazyAloneBatches()).isLessThan(requests);
    }
    assertThat(handled).hasSize(requests).doesNotHaveDuplicates();
    try (SqliteJournal j = journal(file)) {
      assertThat(j.recover()).as("requests and replies acknowledged").isEmpty();
    }
  }

  @Test
  void aCrashBeforeTheLazyClaimCommittedKeepsTheReplyAndRepeatsNoHandler() throws Exception {
    Path file = dir.resolve("cfn.db");
    Path crashed = dir.resolve("crashed");
    Files.createDirectories(crashed);
    List<Long> handled = new CopyOnWriteArrayList<>();
    long requestId;
    try (SqliteJournal j = journal(file);
        AgentRuntime rt =
            AgentRuntime.builder()
                .carriers(1)
                .journal(j)
                .register(ReliableRequestTest.service(handled))
                .build()) {
      CompletableFuture<Envelope> reply =
          rt.request(ReliableRequestTest.reliable(SERVICE, "q"), LONG);
      // The requester has the reply, and its claim is not even queued yet: what a crash leaves
      // now is the journal's files as they are (the handler's commit made them durable).
      CompletableFuture<Envelope> snapshot =
          reply.thenApply(
              r -> {
                copy(file, crashed.resolve("cfn.db"));
                copy(Path.of(file + "-wal"), crashed.resolve("cfn.db-wal"));
                return r;
              });
      Envelope got = snapshot.get(60, TimeUnit.SECONDS);
      assertThat(got.payload()).isEqualTo("re:q/-");
      requestId = got.correlationId();
      assertThat(rt.awaitDrained(LONG)).isTrue();
    }
    assertThat(handled).containsExactly(requestId);
    // the run that went on: request and claimed reply acknowledged
    try (SqliteJournal j = journal(file)) {
      assertThat(j.recover()).isEmpty();
    }
    // the run that crashed: the reply is pending, held for its caller, and the request is not
    // handled again
    try (AgentRuntime after =
        AgentRuntime.builder()
            .carriers(1)
            .journal(journal(crashed.resolve("cfn.db")))
            .register(ReliableRequestTest.service(handled))
            .build()) {
      assertThat(after.awaitDrained(LONG)).isTrue();
      assertThat(after.unclaimedReplies()).isEqualTo(1);
      Envelope again = after.awaitReply(requestId, LONG).get(60, TimeUnit.SECONDS);
      assertThat(again.payload()).isEqualTo("re:q/-");
      assertThat(after.awaitDrained(LONG)).isTrue();
    }
    assertThat(handled).containsExactly(requestId);
    try (SqliteJournal j = journal(crashed.resolve("cfn.db"))) {
      assertThat(j.recover()).as("the reply was claimed after the restart").isEmpty();
    }
  }

  private static void copy(Path from, Path to) {
    try {
      if (Files.exists(from)) {
        Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
