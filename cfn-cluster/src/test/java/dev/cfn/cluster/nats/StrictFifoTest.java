package dev.cfn.cluster.nats;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentId;
import dev.cfn.core.RetryPolicy;
import io.nats.client.Connection;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * {@link PartitionConsumer.Settings#strictFifoTypes()}: a failed message of a strict type is
 * retried in place and nothing behind it in the partition is handled until it succeeds, so the
 * agent's messages are handled in publish order through failures; a type that is not strict is
 * retried after the messages behind it.
 */
class StrictFifoTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @Test
  void aStrictTypesFailedMessageHoldsThePartitionUntilItSucceeds() throws Exception {
    AgentId ledger = AgentId.of("ledger", "1");
    AgentId chat = AgentId.of("chat", "1");
    try (NatsCluster server = NatsCluster.startSingle();
        Connection connection = server.connect()) {
      ReliableStream stream =
          ReliableStream.ensure(connection, Subjects.of("strict"), 1, Duration.ofMinutes(2), -1);
      ReliablePublisher publisher = new ReliablePublisher(connection, stream, new Partitioner(1));
      for (AgentId agent : List.of(chat, ledger)) {
        for (int i = 1; i <= 5; i++) {
          publisher.publish(
              agent, agent.type() + "-" + i, Integer.toString(i).getBytes(StandardCharsets.UTF_8));
        }
      }
      List<String> calls = new CopyOnWriteArrayList<>(); // every attempt, in order
      List<String> handled = new CopyOnWriteArrayList<>(); // successes, in order
      RetryPolicy retry = new RetryPolicy(Duration.ofMillis(50), 2.0, Duration.ofMillis(200), 10);
      try (PartitionConsumer consumer =
          PartitionConsumer.start(
              connection,
              stream,
              0,
              1,
              retry,
              m -> {
                String name =
                    m.target().type() + "-" + new String(m.body(), StandardCharsets.UTF_8);
                calls.add(name + "#" + m.attempt());
                if (name.endsWith("-1") && m.attempt() < 3) {
                  throw new IllegalStateException("transient failure of " + name);
                }
                handled.add(name);
              },
              (m, cause) -> {
                throw new AssertionError("unexpected dead letter " + m.messageId(), cause);
              },
              new PartitionConsumer.Settings(Duration.ofSeconds(30), 16, 256)
                  .withStrictFifo(Set.of("ledger")))) {
        Await.until(WAIT, "10 handled", () -> handled.size() == 10);
      }
      assertThat(handled)
          .filteredOn(n -> n.startsWith("ledger-"))
          .as("strict: publish order through the failures")
          .containsExactly("ledger-1", "ledger-2", "ledger-3", "ledger-4", "ledger-5");
      int first = calls.indexOf("ledger-1#1");
      assertThat(calls.subList(first, first + 4))
          .as("retried in place: nothing handled between its attempts")
          .containsExactly("ledger-1#1", "ledger-1#2", "ledger-1#3", "ledger-2#1");
      assertThat(handled).filteredOn(n -> n.startsWith("chat-")).hasSize(5).contains("chat-1");
      assertThat(calls).contains("chat-1#1", "chat-1#2", "chat-1#3");
    }
  }
}
