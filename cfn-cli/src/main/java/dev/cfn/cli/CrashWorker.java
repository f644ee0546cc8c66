package dev.cfn.cli;

import dev.cfn.core.Agent;
import dev.cfn.core.AgentContext;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.store.journal.SqliteJournal;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The process {@code cfn chaos crash} kills: a runtime on a SQLite journal running reliable agents.
 *
 * <p>Each of {@code chains} producers handles {@code Tick(chain, n)} by sending, through its
 * outbox, {@code Item(chain, n)} to its consumer and {@code Tick(chain, n + 1)} to itself, both
 * committed with the acknowledgement of the tick, so every send happens exactly once whatever the
 * kills. A consumer handles {@code Item(chain, n)} by incrementing the count stored under key
 * {@code n} in the journal's state, committed with the item's acknowledgement: a count above 1
 * would be a duplicate, a missing key below the highest a loss.
 *
 * <p>It prints one line per event on standard output for the parent: {@code recovered N}, {@code
 * first-handled EPOCH_MILLIS}, {@code idle}. Once the stop file exists, producers stop ticking; the
 * worker exits when nothing has been handled for a second.
 */
final class CrashWorker {
  /** A producer's tick. */
  record Tick(int chain, long n) {}

  /** A consumer's work item. */
  record Item(int chain, long n) {}

  private CrashWorker() {}

  static int run(Path db, Path stopFile, int chains, boolean seed, PrintStream out)
      throws Exception {
    AtomicBoolean firstHandled = new AtomicBoolean();
    AtomicLong lastHandled = new AtomicLong(System.nanoTime());
    SqliteJournal journal = SqliteJournal.builder(db).payloadType(Tick.class, Item.class).open();
    Agent producer =
        (Envelope m, AgentContext ctx) -> {
          Tick t = m.payload(Tick.class);
          ctx.effects()
              .send(
                  AgentId.of("consumer", Integer.toString(t.chain())), new Item(t.chain(), t.n()));
          if (!Files.exists(stopFile)) {
            ctx.effects().send(ctx.self(), new Tick(t.chain(), t.n() + 1));
          }
          handled(firstHandled, lastHandled, out);
        };
    Agent consumer =
        (Envelope m, AgentContext ctx) -> {
          Item item = m.payload(Item.class);
          String key = Long.toString(item.n());
          long count = ctx.effects().get(key).map(Long::parseLong).orElse(0L);
          ctx.effects().put(key, Long.toString(count + 1));
          handled(firstHandled, lastHandled, out);
        };
    AgentRuntime rt =
        AgentRuntime.builder()
            .journal(journal)
            .jvmMetrics(false)
            .register(AgentType.of("producer", id -> producer))
            .register(AgentType.of("consumer", id -> consumer))
            .build();
    double recoveryMs =
        rt.meterRegistry().get(dev.cfn.core.CfnMetrics.RECOVERY_SECONDS).gauge().value() * 1000;
    out.println(
        "recovered "
            + rt.recoveredMessages()
            + " "
            + String.format(java.util.Locale.ROOT, "%.2f", recoveryMs));
    if (seed) {
      for (int c = 0; c < chains; c++) {
        rt.send(
            Envelope.to(AgentId.of("producer", Integer.toString(c)))
                .delivery(DeliveryMode.RELIABLE)
                .payload(new Tick(c, 1)));
      }
    }
    out.println("ready");
    while (!(Files.exists(stopFile)
        && System.nanoTime() - lastHandled.get() > Duration.ofSeconds(1).toNanos())) {
      Thread.sleep(50);
    }
    rt.shutdown(Duration.ofSeconds(30));
    out.println("idle");
    return 0;
  }

  private static void handled(AtomicBoolean first, AtomicLong last, PrintStream out) {
    last.set(System.nanoTime());
    if (!first.get() && first.compareAndSet(false, true)) {
      out.println("first-handled " + System.currentTimeMillis());
    }
  }
}
