package dev.cfn.store.journal;

import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The child JVM of {@link QueuedAppendCrashTest}: {@value #SENDERS} outside threads send {@code
 * args[1]} RELIABLE messages without idempotency keys to {@value #AGENTS} counting agents, every
 * other one a request (whose call returns before its append is durable) and the others plain sends
 * (whose call returns once the message is durable). With {@code args[3]} {@code early} the runtime
 * delivers them while their appends are queued ({@code AgentRuntime.Builder.earlyDelivery}), else
 * once durable. It prints {@code STORED <id> <agent>} when a send returned and {@code DONE <id>
 * <agent>} when a request's reply arrived (the acknowledgement carrying the reply committed); after
 * the {@code args[2]}-th reply it prints {@code KILL} and stops printing, and the parent SIGKILLs
 * it on reading that line, while the other messages are in flight.
 *
 * <p>Arguments: the journal file, the number of messages, the reply after which to be killed, and
 * {@code early} or {@code durable}.
 */
final class QueuedAppendChild {
  static final int AGENTS = 16;
  static final int SENDERS = 8;

  private QueuedAppendChild() {}

  static AgentId agent(int i) {
    return AgentId.of("counter", Integer.toString(i % AGENTS));
  }

  /** Counts its messages in its state, marks each handled, and answers a request. */
  static AgentType counter() {
    return AgentType.of(
        "counter",
        id ->
            (m, ctx) -> {
              ctx.effects().increment("n", 1);
              ctx.effects().put("handled-" + m.id(), "yes");
              if (m.isRequest()) {
                ctx.reply("ok-" + m.id());
              }
            });
  }

  public static void main(String[] args) throws Exception {
    Path file = Path.of(args[0]);
    int requests = Integer.parseInt(args[1]);
    int killAfter = Integer.parseInt(args[2]);
    PrintStream out =
        new PrintStream(
            new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8.name());
    AgentRuntime rt =
        AgentRuntime.builder()
            .jvmMetrics(false)
            .journal(SqliteJournal.builder(file).open())
            .earlyDelivery(args[3].equals("early"))
            .register(counter())
            .build();
    AtomicInteger next = new AtomicInteger();
    AtomicInteger replies = new AtomicInteger();
    CountDownLatch never = new CountDownLatch(1);
    Object print = new Object();
    for (int s = 0; s < SENDERS; s++) {
      Thread.ofPlatform()
          .start(
              () -> {
                for (int i = next.getAndIncrement(); i < requests; i = next.getAndIncrement()) {
                  int agent = i % AGENTS;
                  if (i % 2 == 1) {
                    long id =
                        rt.send(
                            Envelope.to(agent(agent))
                                .delivery(DeliveryMode.RELIABLE)
                                .payload("send " + i));
                    // send() returned: the message is durable
                    synchronized (print) {
                      if (replies.get() < killAfter) {
                        out.println("STORED " + id + " " + agent);
                      }
                    }
                    continue;
                  }
                  var reply =
                      rt.request(
                          Envelope.to(agent(agent))
                              .delivery(DeliveryMode.RELIABLE)
                              .payload("task " + i),
                          Duration.ofMinutes(5));
                  // request() returned at once; the reply comes once the append and the
                  // acknowledgement with the reply committed (or the future fails)
                  reply.whenComplete(
                      (r, error) -> {
                        synchronized (print) {
                          if (replies.get() >= killAfter) {
                            return; // KILL printed: nothing more
                          }
                          if (error != null) {
                            out.println("FAILED " + error);
                            return;
                          }
                          out.println("DONE " + r.correlationId() + " " + agent);
                          if (replies.incrementAndGet() == killAfter) {
                            out.println("KILL");
                          }
                        }
                      });
                }
              });
    }
    never.await(); // the parent's SIGKILL ends it
  }
}
