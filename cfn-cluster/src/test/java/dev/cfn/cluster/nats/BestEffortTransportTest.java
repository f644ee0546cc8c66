package dev.cfn.cluster.nats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cfn.core.AgentId;
import dev.cfn.core.TopicId;
import io.nats.client.Connection;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** Two nodes (two connections to a 3-server cluster, on different servers) exchanging messages. */
class BestEffortTransportTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String text(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  @Test
  void twoNodesExchangeMessagesPublicationsAndRequests() throws Exception {
    try (NatsCluster cluster = NatsCluster.startThree();
        Connection a = io.nats.client.Nats.connect(cluster.node(0).url());
        Connection b = io.nats.client.Nats.connect(cluster.node(2).url())) {
      Subjects subjects = Subjects.of("be");
      Partitioner partitioner = new Partitioner(8);
      try (BestEffortTransport nodeA = new BestEffortTransport(a, subjects, partitioner, "node-a");
          BestEffortTransport nodeB =
              new BestEffortTransport(b, subjects, partitioner, "node.b/2")) {
        // node B owns partitions 0-3, node A owns 4-7
        List<String> atB = new CopyOnWriteArrayList<>();
        List<String> atA = new CopyOnWriteArrayList<>();
        for (int p = 0; p < 8; p++) {
          BestEffortTransport owner = p < 4 ? nodeB : nodeA;
          List<String> log = p < 4 ? atB : atA;
          owner.serve(
              p,
              (target, body) -> {
                log.add(target + "=" + text(body));
                return utf8(
                    "reply from " + (log == atB ? "B" : "A") + " to " + target + ": " + text(body));
              });
        }
        List<String> topicsAtB = new CopyOnWriteArrayList<>();
        nodeB.subscribe("swarm.#", (topic, body) -> topicsAtB.add(topic + "=" + text(body)));
        nodeB.subscribe("swarm.*.status", (topic, body) -> topicsAtB.add("status:" + topic));
        a.flush(WAIT);
        b.flush(WAIT);

        AgentId onB = agentIn(partitioner, 0, 4, "b");
        AgentId onA = agentIn(partitioner, 4, 8, "a");
        nodeA.send(onB, utf8("hello"));
        nodeB.send(onA, utf8("hi back"));
        Await.until(WAIT, "point-to-point delivered", () -> atB.size() == 1 && atA.size() == 1);
        assertThat(atB).containsExactly(onB + "=hello");
        assertThat(atA).containsExactly(onA + "=hi back");

        nodeA.publish(TopicId.of("swarm.alpha.status", "run/1"), utf8("up"));
        nodeA.publish(TopicId.of("swarm", "run/1"), utf8("root"));
        nodeA.publish(TopicId.of("other.alpha", "run/1"), utf8("not subscribed"));
        Await.until(WAIT, "publications delivered", () -> topicsAtB.size() == 3);
        assertThat(topicsAtB)
            .containsExactlyInAnyOrder(
                "swarm.alpha.status@run/1=up",
                "status:swarm.alpha.status@run/1",
                "swarm@run/1=root");

        byte[] reply = nodeA.request(onB, utf8("ping"), WAIT).get(10, TimeUnit.SECONDS);
        assertThat(text(reply)).isEqualTo("reply from B to " + onB + ": ping");
        byte[] back = nodeB.request(onA, utf8("pong?"), WAIT).get(10, TimeUnit.SECONDS);
        assertThat(text(back)).isEqualTo("reply from A to " + onA + ": pong?");
        for (int i = 0; i < 100; i++) {
          assertThat(text(nodeA.request(onB, utf8("n" + i), WAIT).get(10, TimeUnit.SECONDS)))
              .endsWith(": n" + i);
        }
      }
    }
  }

  @Test
  void requestsFailAtOnceWithoutAnOwnerAndTimeOutWithoutAReply() throws Exception {
    try (NatsCluster server = NatsCluster.startSingle();
        Connection a = server.connect();
        Connection b = server.connect()) {
      Subjects subjects = Subjects.of("be");
      Partitioner partitioner = new Partitioner(2);
      try (BestEffortTransport nodeA = new BestEffortTransport(a, subjects, partitioner, "a");
          BestEffortTransport nodeB = new BestEffortTransport(b, subjects, partitioner, "b")) {
        AgentId silent = agentIn(partitioner, 0, 1, "s");
        AgentId unserved = agentIn(partitioner, 1, 2, "u");
        nodeB.serve(0, (target, body) -> null); // receives, never replies
        b.flush(WAIT);
        assertThatThrownBy(
                () -> nodeA.request(unserved, new byte[0], WAIT).get(10, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .hasCauseInstanceOf(BestEffortTransport.NoResponderException.class);
        assertThatThrownBy(
                () ->
                    nodeA
                        .request(silent, new byte[0], Duration.ofMillis(300))
                        .get(10, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .hasCauseInstanceOf(TimeoutException.class);
        assertThatThrownBy(() -> nodeA.subscribe("a..b", (t, body) -> {}))
            .hasMessageContaining("fix:");
      }
    }
  }

  @Test
  void cfnTopicMatchingIsStarForOneSegmentHashForAny() {
    assertThat(match("a.#.b", "a.b")).isTrue();
    assertThat(match("a.#.b", "a.x.y.b")).isTrue();
    assertThat(match("a.#.b", "a.x.y.c")).isFalse();
    assertThat(match("a.*", "a")).isFalse();
    assertThat(match("#", "a.b.c")).isTrue();
  }

  private static boolean match(String pattern, String type) {
    return BestEffortTransport.matches(pattern.split("\\."), 0, type.split("\\."), 0);
  }

  private static AgentId agentIn(Partitioner partitioner, int from, int to, String prefix) {
    for (int i = 0; ; i++) {
      AgentId id = AgentId.of("agent", prefix + i);
      int p = partitioner.partition(id);
      if (p >= from && p < to) {
        return id;
      }
    }
  }
}
