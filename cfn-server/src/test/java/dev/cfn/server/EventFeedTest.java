package dev.cfn.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The event ids of a node's feed go on rising across restarts of the node: a client that resumes
 * with the {@code Last-Event-ID} of an earlier run of the node receives every event the new feed
 * holds, not nothing until the new ids pass the old one.
 */
class EventFeedTest {
  @Test
  void idsFollowOneAnotherAndResumeAfterTheLastOneSeen() throws Exception {
    EventFeed feed = new EventFeed(100);
    assertThat(feed.last()).isEqualTo(99);
    feed.append("a", "{}");
    feed.append("b", "{}");
    feed.append("c", "{}");
    assertThat(feed.after(100, 0)).extracting(EventFeed.Event::id).containsExactly(101L, 102L);
    assertThat(feed.after(102, 0)).isEmpty();
  }

  @Test
  void anIdOfAnEarlierRunOfTheNodeResumesWithEverythingTheNewFeedHolds() throws Exception {
    EventFeed before = new EventFeed(1_000);
    before.append("a", "{}");
    before.append("b", "{}");
    long lastSeen = before.last();
    EventFeed after = new EventFeed(5_000); // the node started again
    assertThat(after.after(lastSeen, 0)).as("nothing yet: the wait ends empty").isEmpty();
    after.append("c", "{}");
    after.append("d", "{}");
    List<EventFeed.Event> resumed = after.after(lastSeen, 0);
    assertThat(resumed).extracting(EventFeed.Event::name).containsExactly("c", "d");
  }

  @Test
  void theOldestHeldIdMovesOnOnceTheWindowIsFull() throws Exception {
    EventFeed feed = new EventFeed(10);
    assertThat(feed.oldest()).as("none held: the next id").isEqualTo(10);
    for (int i = 0; i < EventFeed.CAPACITY; i++) {
      feed.append("e", "{}");
    }
    assertThat(feed.oldest()).isEqualTo(10);
    feed.append("e", "{}");
    feed.append("e", "{}");
    assertThat(feed.oldest()).isEqualTo(12);
    // a reader that last saw 10 missed 11: the first event it gets is 12, which the route signals
    assertThat(feed.after(10, 0).getFirst().id()).isEqualTo(12);
  }

  @Test
  void theFirstIdComesFromTheClockSoIdsRiseAcrossRestarts() {
    long clock = System.currentTimeMillis() * 1_000;
    EventFeed feed = new EventFeed();
    assertThat(feed.last() + 1).isGreaterThanOrEqualTo(clock);
  }
}
