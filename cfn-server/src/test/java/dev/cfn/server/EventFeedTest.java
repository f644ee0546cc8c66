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
  void theFirstIdComesFromTheClockSoIdsRiseAcrossRestarts() {
    long clock = System.currentTimeMillis() * 1_000;
    EventFeed feed = new EventFeed();
    assertThat(feed.last() + 1).isGreaterThanOrEqualTo(clock);
  }
}
