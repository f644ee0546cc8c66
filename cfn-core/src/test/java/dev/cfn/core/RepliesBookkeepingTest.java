package dev.cfn.core;

import static dev.cfn.core.TestSupport.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * The bookkeeping of requests waiting for a reply ({@link Replies}) is bounded by the requests in
 * flight: a request answered, failed, taken back or timed out leaves no waiting entry behind, and
 * its deadline does not wait to pass (there are at most twice as many deadlines as requests
 * waiting; none once none waits). Sizes are read through package-private accessors; nothing is
 * timed.
 */
class RepliesBookkeepingTest {
  private static final AgentId TO = AgentId.of("service", "1");
  private static final Duration HOUR = Duration.ofHours(1);

  private static Envelope replyTo(long requestId) {
    return new Envelope(
        requestId + 1_000_000_000L,
        "String",
        TO,
        AgentRuntime.EXTERNAL,
        null,
        requestId,
        Priority.NORMAL,
        DeliveryMode.BEST_EFFORT,
        Map.of(Envelope.REPLY_HEADER, "true"),
        "ok",
        System.nanoTime());
  }

  @Test
  void aHundredThousandAnsweredRequestsLeaveNothingBehind() {
    Replies replies = new Replies("test");
    try {
      for (long id = 1; id <= 100_000; id++) {
        CompletableFuture<Envelope> f = replies.open(id, TO, HOUR);
        switch ((int) (id % 3)) {
          case 0 -> assertThat(replies.complete(replyTo(id))).isTrue();
          case 1 -> replies.fail(id, new IllegalStateException("refused"));
          default -> assertThat(replies.take(id)).isSameAs(f); // a duplicate's future, dropped
        }
      }
      assertThat(replies.waitingCount()).isZero();
      // the deadlines of answered requests go too, long before they would pass (an hour)
      eventually(
          () -> replies.deadlineCount() == 0,
          "no deadline left for answered requests (" + replies.deadlineCount() + " held)");
    } finally {
      replies.failAll();
    }
  }

  @Test
  void whatStaysIsWhatIsInFlight() {
    Replies replies = new Replies("test");
    try {
      List<CompletableFuture<Envelope>> open = new ArrayList<>();
      for (long id = 1; id <= 1_000; id++) {
        open.add(replies.open(id, TO, HOUR));
      }
      for (long id = 1_001; id <= 101_000; id++) {
        replies.open(id, TO, HOUR);
        replies.complete(replyTo(id));
      }
      // at most one garbage deadline per waiting request: the heap is purged when half of it is
      eventually(
          () -> replies.deadlineCount() <= 2 * 1_000,
          "at most 2,000 deadlines for the 1,000 requests in flight ("
              + replies.deadlineCount()
              + " held)");
      assertThat(replies.waitingCount()).isEqualTo(1_000);
      assertThat(open).noneMatch(CompletableFuture::isDone);
      for (long id = 1; id <= 1_000; id++) {
        replies.complete(replyTo(id));
      }
      assertThat(open).allMatch(f -> f.join().payload().equals("ok"));
      eventually(() -> replies.deadlineCount() == 0, "no deadline left");
    } finally {
      replies.failAll();
    }
  }

  @Test
  void timedOutRequestsLeaveNothingBehind() {
    Replies replies = new Replies("test");
    try {
      List<CompletableFuture<Envelope>> futures = new ArrayList<>();
      for (long id = 1; id <= 10_000; id++) {
        futures.add(replies.open(id, TO, Duration.ofMillis(1 + id % 7)));
      }
      eventually(() -> futures.stream().allMatch(CompletableFuture::isDone), "every timeout");
      assertThat(futures).allMatch(f -> f.exceptionNow() instanceof TimeoutException, "timed out");
      eventually(
          () -> replies.deadlineCount() == 0 && replies.waitingCount() == 0,
          "nothing left of the timed-out requests");
      // a reply after the timeout finds nothing to complete and adds nothing
      assertThat(replies.complete(replyTo(1))).isFalse();
      assertThat(replies.waitingCount()).isZero();
    } finally {
      replies.failAll();
    }
  }

  @Test
  void aRuntimeKeepsNoEntryForItsAnsweredRequests() {
    try (AgentRuntime rt = TestSupport.runtime()) {
      rt.register(AgentType.of("echo", id -> (m, ctx) -> ctx.reply(m.payload())));
      AgentId echo = AgentId.of("echo", "1");
      List<CompletableFuture<Envelope>> window = new ArrayList<>();
      for (int i = 0; i < 100_000; i++) {
        window.add(rt.request(echo, i, HOUR));
        if (window.size() == 1_000) {
          window.forEach(CompletableFuture::join);
          window.clear();
        }
      }
      window.forEach(CompletableFuture::join);
      Replies replies = rt.replies();
      assertThat(replies.waitingCount()).isZero();
      eventually(
          () -> replies.deadlineCount() == 0,
          "no deadline left for 100,000 answered requests (" + replies.deadlineCount() + " held)");
    }
  }
}
