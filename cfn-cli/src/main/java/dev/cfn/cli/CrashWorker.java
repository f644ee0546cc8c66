package dev.cfn.cli;

import static dev.cfn.cli.ChaosWorkers.value;

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

  /**
   * The worker's own entry point, which {@code cfn chaos crash} starts in each worker JVM: {@code
   * --db FILE --stop-file FILE --chains N [--seed-chains]}, the options of the hidden {@code cfn
   * chaos worker} command, read without picocli. A restart's time is what the chaos test measures,
   * and building the whole command line costs a restarted JVM a few hundred milliseconds on a busy
   * machine: picocli's classes target Java 5, too old for the ahead-of-time class cache, so they
   * are loaded and verified anew in every worker. Fails as the command would: one line {@code cfn
   * chaos worker: ...} on standard error, exit 2 for bad arguments, 1 for a failure.
   */
  public static void main(String[] args) {
    Path db = null;
    Path stop = null;
    int chains = -1;
    boolean seed = false;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--db" -> db = Path.of(value(args, ++i, "--db"));
          case "--stop-file" -> stop = Path.of(value(args, ++i, "--stop-file"));
          case "--chains" -> chains = Integer.parseInt(value(args, ++i, "--chains"));
          case "--seed-chains" -> seed = true;
          default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
        }
      }
      if (db == null || stop == null || chains < 1) {
        throw new IllegalArgumentException("--db, --stop-file and --chains (1 or more) are needed");
      }
    } catch (IllegalArgumentException e) { // NumberFormatException included
      ChaosWorkers.exitBadArguments(e, "cfn chaos crash");
      return;
    }
    Path dbFile = db;
    Path stopFile = stop;
    int chainCount = chains;
    boolean seedChains = seed;
    ChaosWorkers.runAndExit(() -> run(dbFile, stopFile, chainCount, seedChains, System.out));
  }

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
    ChaosWorkers.printRecovered(rt, out);
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
