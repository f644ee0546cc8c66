package dev.cfn.bench;

import dev.cfn.ai.budget.Budget;
import dev.cfn.ai.model.Usage;
import dev.cfn.core.AgentId;
import dev.cfn.core.AgentRuntime;
import dev.cfn.core.DeliveryMode;
import dev.cfn.core.Envelope;
import dev.cfn.flow.swarm.Swarm;
import dev.cfn.store.journal.SqliteJournal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * What a durable swarm's ledger costs a member's model call: the time of one {@link Budget#charge}
 * of a member budget ({@link Swarm#memberBudget}), timed in a loop on T virtual threads at once (as
 * LlmAgent's blocking handlers charge), on a SQLite journal in a temporary directory:
 *
 * <ul>
 *   <li>{@code memory}: a swarm that is not durable (the charge counted in memory only);
 *   <li>{@code durable}: a durable swarm (the charge journaled as a RELIABLE message to the ledger,
 *       waiting for its append's fsync, group-committed with the other appends of the moment);
 *   <li>{@code request-wait}: what the charge did before, emulated here: a RELIABLE request to the
 *       ledger waited for until the ledger applied it and its reply committed.
 * </ul>
 *
 * <p>After each {@code durable} run it prints how long the ledger then took to apply what was
 * journaled and not yet applied ({@link Swarm#awaitLedger}): the charges do not wait for it.
 *
 * <p>A charge that rides a RELIABLE request's acknowledgement (LlmAgent's final answer to such a
 * request) adds one outbox row to a commit the request makes anyway and waits for nothing; it is
 * not measured here.
 *
 * <pre>
 * java -cp ... dev.cfn.bench.SwarmLedgerProbe [--threads 1,16] [--charges 2000]
 * </pre>
 *
 * <p>Not a command of {@code cfn bench}: a small timed loop kept beside the ledger's work. Its
 * figures depend on the disk's fsync and on the machine's load.
 */
public final class SwarmLedgerProbe {
  private SwarmLedgerProbe() {}

  private static final Usage USAGE = new Usage(100, 20, 0);

  /**
   * Runs the probe and prints one line per scenario and thread count.
   *
   * @param args see the class comment
   * @throws Exception when the journal cannot be opened
   */
  public static void main(String[] args) throws Exception {
    int[] threads = {1, 16};
    int charges = 2000;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--threads" ->
            threads = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--charges" -> charges = Integer.parseInt(args[++i]);
        default ->
            throw new IllegalArgumentException(
                "unknown option " + args[i] + "; use --threads 1,16 --charges N");
      }
    }
    System.out.println("SwarmLedgerProbe: " + Machine.current().describe());
    Path dir = Files.createTempDirectory("cfn-ledger-probe");
    try (SqliteJournal journal = SqliteJournal.builder(dir.resolve("journal.db")).open();
        AgentRuntime rt = AgentRuntime.builder().jvmMetrics(false).journal(journal).build()) {
      Swarm memory = Swarm.builder("probe-memory", rt).build();
      Swarm durable = Swarm.builder("probe-durable", rt).durable(journal).build();
      Swarm emulated = Swarm.builder("probe-request", rt).durable(journal).build();
      AgentId emulatedLedger = AgentId.of("cfn-swarm-ledger", "probe-request");
      Budget oldWay = Budget.builder("request-wait member").parent(emulated.budget()).build();
      for (int round = 1; round <= 2; round++) {
        for (int t : threads) {
          Budget m = memory.memberBudget(AgentId.of("member", "m"));
          run(round, "memory", t, charges, b -> m.charge(USAGE, "test-model"));
          Budget d = durable.memberBudget(AgentId.of("member", "d"));
          run(round, "durable", t, charges, b -> d.charge(USAGE, "test-model"));
          long a0 = System.nanoTime();
          durable.awaitLedger(Duration.ofSeconds(120));
          System.out.println(
              String.format(
                  Locale.ROOT,
                  "round %d  durable      threads %3d  then applied by the ledger within %,.1f ms"
                      + " (under load)",
                  round,
                  t,
                  (System.nanoTime() - a0) / 1e6));
          run(
              round,
              "request-wait",
              t,
              charges,
              b -> {
                oldWay.charge(USAGE, "test-model");
                try {
                  rt.request(
                          Envelope.to(emulatedLedger)
                              .delivery(DeliveryMode.RELIABLE)
                              .payload("spend\ntest-model\n100\n20\n0"),
                          Duration.ofSeconds(30))
                      .get(35, TimeUnit.SECONDS);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
        }
      }
      durable.awaitLedger(Duration.ofSeconds(60));
      memory.close();
      durable.close();
      emulated.close();
    }
  }

  private static void run(int round, String name, int threads, int charges, Consumer<Integer> one)
      throws InterruptedException {
    int each = Math.max(1, charges / threads);
    long[][] nanos = new long[threads][each];
    CountDownLatch done = new CountDownLatch(threads);
    long t0 = System.nanoTime();
    for (int t = 0; t < threads; t++) {
      int slot = t;
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  for (int i = 0; i < each; i++) {
                    long s = System.nanoTime();
                    one.accept(i);
                    nanos[slot][i] = System.nanoTime() - s;
                  }
                } finally {
                  done.countDown();
                }
              });
    }
    done.await();
    long elapsed = System.nanoTime() - t0;
    long[] all = Arrays.stream(nanos).flatMapToLong(Arrays::stream).sorted().toArray();
    double perSecond = all.length / (elapsed / 1e9);
    System.out.println(
        String.format(
            Locale.ROOT,
            "round %d  %-12s threads %3d  charges %6d  %,10.0f charges/s  per charge: mean %8.1f"
                + " us  P50 %8.1f us  P99 %8.1f us  (under load)",
            round,
            name,
            threads,
            all.length,
            perSecond,
            Arrays.stream(all).average().orElse(0) / 1e3,
            all[all.length / 2] / 1e3,
            all[(int) Math.min(all.length - 1, Math.ceil(all.length * 0.99) - 1)] / 1e3));
  }
}
