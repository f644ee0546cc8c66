package dev.cfn.store.journal;

import dev.cfn.core.AgentRuntime;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import java.nio.file.Path;

/**
 * Run in a child JVM by {@link IdempotentProducerTest}: a producer that sends one RELIABLE message
 * with an idempotency key, prints {@code APPENDED <id>} once the send returned (the message is
 * durable), and then hangs until the parent SIGKILLs it: the crash after the append and before the
 * producer did anything with the id. With {@code handle} as third argument it also runs the
 * counting agent, which may or may not handle the message before the kill.
 */
public final class KeyedProducer {
  private KeyedProducer() {}

  public static void main(String[] args) throws Exception {
    SqliteJournal journal = SqliteJournal.builder(Path.of(args[0])).open();
    AgentRuntime.Builder builder = AgentRuntime.builder().carriers(1).journal(journal);
    if (args.length > 2 && args[2].equals("handle")) {
      builder.register(IdempotentProducerTest.counter());
    }
    AgentRuntime rt = builder.build();
    long id =
        rt.send(
            Envelope.to(IdempotentProducerTest.COUNTER)
                .delivery(DeliveryMode.RELIABLE)
                .idempotencyKey(args[1])
                .payload("order"));
    System.out.println("APPENDED " + id);
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE); // the parent kills us here
  }
}
