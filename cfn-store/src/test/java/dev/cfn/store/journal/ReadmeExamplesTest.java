package dev.cfn.store.journal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.OverflowPolicy;
import dev.cfn.core.SupervisionStrategy;
import dev.cfn.core.TopicId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's code, run as written (paths moved into a temporary directory). */
class ReadmeExamplesTest {
  @TempDir Path dir;

  record Order(String customer, long cents) {}

  @Test
  void theRuntimeInTwentyLines() throws Exception {
    CopyOnWriteArrayList<String> seen = new CopyOnWriteArrayList<>();
    try (AgentRuntime rt = AgentRuntime.builder().build()) {
      rt.register(AgentType.of("echo", id -> (m, ctx) -> ctx.reply(m.payload())));
      rt.register(
          AgentType.builder("worker", id -> (m, ctx) -> seen.add(ctx.self() + ":" + m.payload()))
              .mailboxCapacity(4096)
              .overflow(OverflowPolicy.REJECT)
              .supervision(
                  SupervisionStrategy.restart(
                      5, Duration.ofMinutes(1), Duration.ofMillis(10), Duration.ofSeconds(1)))
              .build());
      rt.subscribe("tasks.#", "worker");
      rt.publish(TopicId.of("tasks.created", "42"), "build");
      Envelope reply = rt.request(AgentId.of("echo", "1"), "ping", Duration.ofSeconds(1)).join();
      assertThat(reply.payload()).isEqualTo("ping");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (seen.isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(seen).containsExactly("worker/42:build");
    }
  }

  @Test
  void reliableDelivery() throws Exception {
    Order order = new Order("ada", 1250);
    CopyOnWriteArrayList<Order> mailed = new CopyOnWriteArrayList<>();
    SqliteJournal journal =
        SqliteJournal.builder(dir.resolve("cfn.db"))
            .payloadType(Order.class)
            .backups(dir.resolve("backups"))
            .open();
    try (AgentRuntime rt =
        AgentRuntime.builder()
            .journal(journal)
            .register(
                AgentType.of(
                    "billing",
                    id ->
                        (m, ctx) -> {
                          Order o = m.payload(Order.class);
                          ctx.effects().increment("total", o.cents());
                          ctx.effects()
                              .putJson("last", "{\"customer\": \"" + o.customer() + "\"}")
                              .send(AgentId.of("mailer", o.customer()), o);
                        }))
            .register(AgentType.of("mailer", id -> (m, ctx) -> mailed.add(m.payload(Order.class))))
            .build()) {
      rt.send(
          Envelope.to(AgentId.of("billing", "eu")).delivery(DeliveryMode.RELIABLE).payload(order));
      rt.send(
          Envelope.to(AgentId.of("billing", "eu")).delivery(DeliveryMode.RELIABLE).payload(order));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (mailed.size() < 2 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(mailed).containsExactly(order, order);
    }
    try (SqliteJournal j =
        SqliteJournal.builder(dir.resolve("cfn.db")).payloadType(Order.class).open()) {
      assertThat(j.state(AgentId.of("billing", "eu"), "total")).contains("2500");
      assertThat(j.stateByPrefix(AgentId.of("billing", "eu"), "", 10))
          .containsKeys("last", "total");
    }
  }
}
