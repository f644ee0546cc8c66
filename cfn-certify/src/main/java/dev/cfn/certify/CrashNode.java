package dev.cfn.certify;

import dev.cfn.core.Agent;
import dev.cfn.core.AgentContext;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.AgentType;
import dev.cfn.core.CfnMetrics;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.core.RetryPolicy;
import dev.cfn.core.spi.Journal;
import dev.cfn.store.journal.SqliteJournal;
import dev.cfn.testkit.journal.FaultyJournal;
import dev.cfn.testkit.process.ChildJvm;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The node the reliability and recovery checks SIGKILL: a runtime on a SQLite journal running
 * reliable agents, in a JVM of its own.
 *
 * <p>Each of {@code chains} producers handles {@code Tick(chain, n)} by sending, through its
 * outbox, {@code Item(chain, n)} to its consumer and, unless it has sent {@code messages} items (0:
 * until the stop file exists), {@code Tick(chain, n + 1)} to itself; both sends commit with the
 * tick's acknowledgement. A consumer handles {@code Item(chain, n)} by incrementing the count kept
 * under key {@code n} in its journal state, committed with the item's acknowledgement: a count
 * above 1 is a duplicate, a missing key a loss. Every {@code failEvery}-th item's handler throws on
 * its first attempt in this process, so retries run throughout.
 *
 * <p>It prints one line per event on standard output: {@code recovered N MS}, {@code ready}, {@code
 * first-handled EPOCH_MILLIS}, {@code handled N} (every 50 ms), {@code done} (nothing pending:
 * every chain ended) and {@code idle} when it exits after the stop file appears.
 *
 * <p>Two faults exist for the honesty tests, off unless asked: {@code --lose-every K} puts a
 * journal in front of SQLite that drops the effects of every K-th consumer acknowledgement (a store
 * that loses commits: cfn-testkit's {@link FaultyJournal}), {@code --start-delay-ms MS} sleeps
 * before the node starts (a slow start).
 */
final class CrashNode {
  /** A producer's tick. */
  record Tick(int chain, long n) {}

  /** A consumer's work item. */
  record Item(int chain, long n) {}

  /**
   * Faults injected on purpose, for the honesty tests.
   *
   * @param loseEvery drop the effects of every K-th consumer acknowledgement; 0 for none
   * @param startDelayMs sleep this long before a restarted node starts; 0 for none
   */
  record Faults(int loseEvery, long startDelayMs) {
    /** No fault: the real node. */
    static final Faults NONE = new Faults(0, 0);
  }

  /** The prefix of the node's one-line error on standard error. */
  static final String ERROR_PREFIX = "cfn certify node: ";

  /** Starts a node with {@code args} (see {@link #main}) in a JVM of its own. */
  static ChildJvm start(List<String> args, Path log) throws IOException {
    return launch(CrashNode.class, args, log).start();
  }

  /**
   * How the checks start their nodes (this one and {@link ServeNode}): {@code main} with {@code
   * args}, as cfn's commands start a node, its standard error appended to {@code log}.
   */
  static ChildJvm.Launch launch(Class<?> main, List<String> args, Path log) {
    return ChildJvm.of(main.getName(), args)
        .nodeDefaults()
        .logTo(log)
        .named("node", ERROR_PREFIX)
        .status("handled ");
  }

  /** Items {@code node} has handled since it started, as it last reported. */
  static long handled(ChildJvm node) {
    String s = node.status();
    return s == null ? 0 : Long.parseLong(s);
  }

  private CrashNode() {}

  /**
   * Entry point: {@code --db FILE --stop-file FILE --chains N --messages N [--seed] [--fail-every
   * N] [--lose-every N] [--start-delay-ms MS]}. Bad arguments: one line on standard error, exit 2.
   */
  public static void main(String[] args) {
    Path db = null;
    Path stop = null;
    int chains = 0;
    long messages = -1;
    boolean seed = false;
    int failEvery = 0;
    int loseEvery = 0;
    long delay = 0;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--db" -> db = Path.of(value(args, ++i));
          case "--stop-file" -> stop = Path.of(value(args, ++i));
          case "--chains" -> chains = Integer.parseInt(value(args, ++i));
          case "--messages" -> messages = Long.parseLong(value(args, ++i));
          case "--seed" -> seed = true;
          case "--fail-every" -> failEvery = Integer.parseInt(value(args, ++i));
          case "--lose-every" -> loseEvery = Integer.parseInt(value(args, ++i));
          case "--start-delay-ms" -> delay = Long.parseLong(value(args, ++i));
          default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
        }
      }
      if (db == null || stop == null || chains < 1 || messages < 0) {
        throw new IllegalArgumentException("--db, --stop-file, --chains and --messages are needed");
      }
    } catch (IllegalArgumentException e) {
      System.err.println(ERROR_PREFIX + e.getMessage() + " (fix: it is started by cfn certify)");
      System.exit(2);
      return;
    }
    int code;
    try {
      code = run(db, stop, chains, messages, seed, failEvery, new Faults(loseEvery, delay));
    } catch (Exception e) {
      System.err.println(ERROR_PREFIX + "failed: " + e);
      code = 1;
    }
    System.out.flush();
    System.exit(code);
  }

  private static String value(String[] args, int i) {
    if (i >= args.length) {
      throw new IllegalArgumentException(args[i - 1] + " needs a value");
    }
    return args[i];
  }

  static int run(
      Path db, Path stopFile, int chains, long messages, boolean seed, int failEvery, Faults faults)
      throws Exception {
    PrintStream out = System.out;
    if (faults.startDelayMs() > 0) {
      Thread.sleep(faults.startDelayMs());
    }
    AtomicBoolean first = new AtomicBoolean();
    AtomicLong handled = new AtomicLong();
    AtomicLong lastHandled = new AtomicLong(System.nanoTime());
    Set<Long> failedOnce = ConcurrentHashMap.newKeySet();
    Journal journal = SqliteJournal.builder(db).payloadType(Tick.class, Item.class).open();
    if (faults.loseEvery() > 0) {
      // a store that loses commits: every K-th consumer acknowledgement keeps none of its effects
      journal =
          FaultyJournal.wrapping(journal)
              .loseEvery(faults.loseEvery(), m -> m.getFirst().payload() instanceof Item);
    }
    Agent producer =
        (Envelope m, AgentContext ctx) -> {
          Tick t = m.payload(Tick.class);
          ctx.effects()
              .send(
                  AgentId.of("consumer", Integer.toString(t.chain())), new Item(t.chain(), t.n()));
          boolean more = messages > 0 ? t.n() < messages : !Files.exists(stopFile);
          if (more) {
            ctx.effects().send(ctx.self(), new Tick(t.chain(), t.n() + 1));
          }
          handled(first, lastHandled, out);
        };
    Agent consumer =
        (Envelope m, AgentContext ctx) -> {
          Item item = m.payload(Item.class);
          if (failEvery > 0
              && item.n() % failEvery == 0
              && failedOnce.add(item.n() * 1_000 + item.chain())) {
            throw new IllegalStateException("planned failure of item " + item.n());
          }
          String key = Long.toString(item.n());
          long count = ctx.effects().get(key).map(Long::parseLong).orElse(0L);
          ctx.effects().put(key, Long.toString(count + 1));
          handled.incrementAndGet();
          handled(first, lastHandled, out);
        };
    AgentRuntime rt =
        AgentRuntime.builder()
            .journal(journal)
            .retryPolicy(new RetryPolicy(Duration.ofMillis(10), 2.0, Duration.ofMillis(500), 20))
            .jvmMetrics(false)
            .register(AgentType.of("producer", id -> producer))
            .register(AgentType.of("consumer", id -> consumer))
            .build();
    double recoveryMs = rt.meterRegistry().get(CfnMetrics.RECOVERY_SECONDS).gauge().value() * 1000;
    out.println(
        "recovered "
            + rt.recoveredMessages()
            + " "
            + String.format(Locale.ROOT, "%.2f", recoveryMs));
    if (seed) {
      for (int c = 0; c < chains; c++) {
        rt.send(
            Envelope.to(AgentId.of("producer", Integer.toString(c)))
                .delivery(DeliveryMode.RELIABLE)
                .payload(new Tick(c, 1)));
      }
    }
    out.println("ready");
    boolean done = false;
    int idleSeen = 0;
    long lastReport = 0;
    while (true) {
      long now = System.nanoTime();
      if (now - lastReport > 50_000_000L) {
        out.println("handled " + handled.get());
        lastReport = now;
      }
      // the next tick commits with each tick's acknowledgement, so nothing pending means every
      // chain has ended and every item was acknowledged (or dead-lettered); seen for 200 ms
      if (!done && messages > 0 && rt.pendingCount() == 0) {
        idleSeen++;
        if (idleSeen >= 20) { // 200 ms
          done = true;
          out.println("done");
        }
      } else {
        idleSeen = 0;
      }
      if (Files.exists(stopFile)
          && (messages > 0 ? done : now - lastHandled.get() > 1_000_000_000L)) {
        break;
      }
      Thread.sleep(10);
    }
    rt.shutdown(Duration.ofSeconds(30));
    journal.close();
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
