package dev.cfn.store.journal;

import static dev.cfn.store.journal.ReliableRuntimeTest.eventually;
import static dev.cfn.store.journal.ReliableRuntimeTest.reliable;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.spi.JournalException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A RELIABLE request from outside the runtime without a key whose append fails (a full disk): by
 * default it never reaches its handler (delivered once durable); with {@code
 * AgentRuntime.Builder.earlyDelivery(true)} it reaches its handler while its append is queued, and
 * nothing of that handling commits. Either way its future fails with the journal's error, and no
 * reply, no effect and nothing pending is left of it.
 */
class EarlyRequestDeliveryTest {
  static final String BIG = "x".repeat(256 * 1024); // needs pages a full database may not add

  @TempDir Path dir;

  @Test
  void byDefaultARequestWhoseAppendFailsNeverReachesItsHandler() throws Exception {
    Set<Object> handled = run(false);
    assertThat(handled).as("delivered only once durable").doesNotContain(BIG);
    assertNothingOfTheRefusedRequestCommitted();
  }

  @Test
  void withEarlyDeliveryARequestWhoseAppendFailsWasHandledButNothingOfItCommits() throws Exception {
    Set<Object> handled = run(true);
    assertThat(handled)
        .as("delivered while its append was queued, before the append failed")
        .contains(BIG);
    assertNothingOfTheRefusedRequestCommitted();
  }

  /**
   * A request before the disk is full, the big one while it is full (its future must fail with the
   * journal's error), and one after, with {@code earlyDelivery(early)} (false: the default, not
   * set); returns the payloads the handler saw.
   */
  private Set<Object> run(boolean early) throws Exception {
    AgentId echo = AgentId.of("echo", "1");
    Set<Object> handled = ConcurrentHashMap.newKeySet();
    SqliteJournal journal = SqliteJournal.builder(dir.resolve("cfn.db")).open();
    AgentRuntime.Builder builder =
        AgentRuntime.builder()
            .journal(journal)
            .register(
                AgentType.of(
                    "echo",
                    id ->
                        (m, ctx) -> {
                          String text = (String) m.payload();
                          handled.add(text);
                          ctx.effects().put("len" + text.length(), "handled");
                          ctx.reply("ok:" + text.length());
                        }));
    if (early) {
      builder.earlyDelivery(true);
    }
    try (AgentRuntime rt = builder.build()) {
      assertThat(rt.request(reliable(echo, "warm"), Duration.ofSeconds(30)).get().payload())
          .isEqualTo("ok:4");
      eventually(() -> rt.pendingCount() == 0, "the first request and its reply acknowledged");

      journal.maxPageCount(1); // the database cannot grow: SQLITE_FULL on the next commit
      CompletableFuture<?> refused;
      if (early) {
        // The writer is held while the request is sent, so that its append is still queued when
        // the runtime delivers it (else a writer quick to fail the append would win the race and
        // the runtime would rightly not deliver it). The send waits for the append, so it runs
        // on a thread of its own.
        Fixtures.Hold hold = Fixtures.hold(journal);
        try {
          refused =
              CompletableFuture.supplyAsync(
                      () -> rt.request(reliable(echo, BIG), Duration.ofSeconds(30)))
                  .thenCompose(f -> f);
          eventually(() -> handled.contains(BIG), "the refused request handled all the same");
        } finally {
          hold.release.countDown();
        }
      } else {
        refused = rt.request(reliable(echo, BIG), Duration.ofSeconds(30));
      }
      assertThatThrownBy(() -> refused.get(30, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(JournalException.class);
      journal.maxPageCount(Integer.MAX_VALUE); // space is back

      assertThat(rt.request(reliable(echo, "after"), Duration.ofSeconds(30)).get().payload())
          .isEqualTo("ok:5");
      eventually(() -> rt.pendingCount() == 0, "nothing left pending");
      assertThat(rt.unclaimedReplies()).as("no reply held for the refused request").isZero();
    }
    return handled;
  }

  private void assertNothingOfTheRefusedRequestCommitted() {
    try (SqliteJournal j = SqliteJournal.builder(dir.resolve("cfn.db")).open()) {
      assertThat(j.recover()).as("the refused request was never stored").isEmpty();
      AgentId echo = AgentId.of("echo", "1");
      assertThat(j.state(echo, "len4")).contains("handled");
      assertThat(j.state(echo, "len5")).as("the request after it committed").contains("handled");
      assertThat(j.state(echo, "len" + BIG.length()))
          .as("nothing of the refused request's handling committed")
          .isEmpty();
    }
  }
}
