package dev.cfn.cluster.nats;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentId;
import io.nats.client.Connection;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The harness itself: a paused follower does not stop R3 publishes, and catches up when resumed.
 */
class NatsClusterTest {

  @Test
  void aPausedFollowerLeavesAQuorumAndCatchesUpWhenResumed() throws Exception {
    try (NatsCluster cluster = NatsCluster.startThree();
        Connection c = cluster.connect()) {
      ReliableStream stream =
          ReliableStream.ensure(c, Subjects.of("pause"), 3, Duration.ofMinutes(2), -1);
      String leader = cluster.streamLeader(c, stream.name());
      NatsCluster.Node follower =
          cluster.nodes().stream().filter(n -> !n.name.equals(leader)).findFirst().orElseThrow();
      long pid = follower.pid();
      cluster.pause(follower);
      try (Connection toLeader = io.nats.client.Nats.connect(cluster.node(leader).url())) {
        ReliablePublisher publisher = new ReliablePublisher(toLeader, stream, new Partitioner(4));
        for (int i = 0; i < 20; i++) {
          assertThat(publisher.publish(AgentId.of("a", "k" + i), "p-" + i, new byte[8]).duplicate())
              .isFalse();
        }
      }
      assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).contains(true);
      cluster.resume(follower);
      String url = cluster.node(leader).url();
      Await.until(
          Duration.ofSeconds(30),
          "the resumed follower is current",
          () -> {
            try {
              return NatsServerCheck.throughClient(url, stream.name(), Duration.ofSeconds(5))
                  .stream()
                  .noneMatch(f -> f.text().contains("followers offline or behind"));
            } catch (Exception e) {
              return false;
            }
          });
      assertThat(
              c.jetStreamManagement().getStreamInfo(stream.name()).getStreamState().getMsgCount())
          .isEqualTo(20);
    }
  }
}
